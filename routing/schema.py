"""What every configuration schema shares (the workspace file's in ``config`` and routing's own):
the strict pydantic base, the error that lists each problem with its path, and the checks of
skill levels and capacities.

Lives in ``routing`` so that both may import it: ``config`` imports routing's schema types,
routing imports nothing of ``config``.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from routing.model import MAX_LEVEL


class Strict(BaseModel):
    """A schema that refuses unknown keys (a typo is an error naming its path) and is immutable
    once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigError(ValueError):
    """The input is invalid; ``problems`` lists "path: message" strings."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def check_levels(value: dict[str, int]) -> dict[str, int]:
    """Skill levels are 1-``MAX_LEVEL`` (a pydantic field validator)."""
    for name, level in value.items():
        if not 1 <= level <= MAX_LEVEL:
            raise ValueError(f"level of {name!r} must be 1-{MAX_LEVEL}, not {level}")
    return value


def check_capacities(value: dict[str, int]) -> dict[str, int]:
    """Capacities are not negative (a pydantic field validator)."""
    if any(n < 0 for n in value.values()):
        raise ValueError("capacities must be >= 0")
    return value
