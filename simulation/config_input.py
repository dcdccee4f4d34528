"""The input of ``simulation simulate`` and ``simulation lint``: agents, rule requirements,
ladders, policy, SLA targets and (optional) generated-traffic settings, as one plain dict (YAML
or JSON).

    policy: {channel_weights: {chat: 3, telegram: 2, email: 1, form: 1},
             offer_channels: [chat, telegram], offer_timeout_s: 30,
             on_absence: requeue_unanswered, aging_step_s: 600, aging_bound: 2,
             surplus_weight: 0.1, load_bands: 2, near_misses: 5}
    sla: {urgent: 300, high: 900, medium: 3600, low: 14400}   # first assignment, seconds
    ladders:
      default:
        - {action: drop_preferred, after_s: 60}
        - {action: lower_levels, after_s: 120, by: 1}
        - {action: widen, after_s: 300, department: general, keep: ["lang:cs"]}
        - {action: escalate, after_s: 600}
    agents:
      - {id: alice, skills: {"lang:cs": 5, billing: 3}, departments: [general],
         capacity: {chat: 2, email: 5}, total: 8, status: online, shift: [8, 17]}
    rules:
      - {name: billing-cs, channels: [email, chat], required: {"lang:cs": 3, billing: 2},
         preferred: {vat: 1}, priority: high, department: general, ladder: default, share: 2}
    simulation: {tickets: 10000, channel_mix: {email: 0.5, chat: 0.3, telegram: 0.1, form: 0.1},
                 handle_s: {chat: 600, telegram: 900, email: 300, form: 300}, seed: 1}

``shift`` is the agent's online hours [start, end) of the simulated day (default all day);
``share`` is the rule's relative share of generated traffic (default 1). Validation errors name
the offending path. ``policy`` and the ladders' steps share their schema with the workspace file
(routing/policy_schema.py); the workspace-file schema (config/routing.py) maps onto this
structure (simulation/workspace_input.py).
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, field_validator

from routing.model import PRIORITIES, Agent, Policy, Request, Step
from routing.policy_schema import PolicyIn, StepIn
from routing.schema import ConfigError, Strict, check_capacities, check_levels


class SimAgentIn(Strict):
    """An agent of the simulated day: as configured, plus its online ``shift``."""

    id: str = Field(min_length=1)
    skills: dict[str, int] = {}
    departments: list[str] = []
    capacity: dict[str, int] = {}
    total: float = Field(ge=0)
    status: Literal["online", "away", "offline"] = "online"
    shift: tuple[float, float] = (0, 24)

    _check_levels = field_validator("skills")(check_levels)
    _check_capacity = field_validator("capacity")(check_capacities)

    def agent(self) -> Agent:
        return Agent(self.id, dict(self.skills), dict(self.capacity), self.total, self.status,
                     departments=frozenset(self.departments))


class SimRuleIn(Strict):
    """One kind of simulated traffic (its ``share`` of the day, its channels) and what routing
    requires for it."""

    name: str = Field(min_length=1)
    channels: list[str] = Field(min_length=1)
    required: dict[str, int] = {}
    preferred: dict[str, float] = {}
    priority: Literal[PRIORITIES] = "medium"  # type: ignore[valid-type]
    department: str | None = None
    ladder: str | list[StepIn] | None = None
    share: float = Field(default=1.0, ge=0)
    sla_s: float | None = Field(default=None, gt=0)  # overrides the priority's target

    _check_levels = field_validator("required")(check_levels)

    @field_validator("preferred")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        if any(w < 0 for w in value.values()):
            raise ValueError("preferred weights must be >= 0")
        return value


class SimulationIn(Strict):
    tickets: int = Field(default=10_000, ge=0)
    seed: int = 1
    channel_mix: dict[str, float] = {"email": 0.5, "chat": 0.3, "telegram": 0.1, "form": 0.1}
    handle_s: dict[str, float] = {"chat": 600, "telegram": 900, "email": 300, "form": 300}
    accept_s: float = Field(default=5, ge=0)  # how long agents take to accept an offer


class RoutingInput(Strict):
    policy: PolicyIn = PolicyIn()
    sla: dict[Literal[PRIORITIES], float] = {  # type: ignore[valid-type]
        "urgent": 300, "high": 900, "medium": 3600, "low": 14400}
    ladders: dict[str, list[StepIn]] = {}
    agents: list[SimAgentIn] = []
    rules: list[SimRuleIn] = []
    simulation: SimulationIn = SimulationIn()

    def make_policy(self) -> Policy:
        return self.policy.policy()

    def make_agents(self) -> list[Agent]:
        """Fresh engine agents (a router mutates them)."""
        return [spec.agent() for spec in self.agents]

    def ladder_of(self, rule: SimRuleIn) -> tuple[Step, ...]:
        if rule.ladder is None:
            return ()
        steps = self.ladders[rule.ladder] if isinstance(rule.ladder, str) else rule.ladder
        return tuple(step.step() for step in steps)

    def sla_target(self, rule: SimRuleIn) -> float | None:
        return rule.sla_s if rule.sla_s is not None else self.sla.get(rule.priority)

    def request(self, rule: SimRuleIn, ticket_id: str, channel: str, now: float,
                previous_agent: str | None = None) -> Request:
        """A request of ``rule`` arriving at ``now`` (SLA due = now + the rule's target)."""
        target = self.sla_target(rule)
        return Request(ticket_id, channel, dict(rule.required), dict(rule.preferred),
                       rule.priority, created=now,
                       sla_due=None if target is None else now + target,
                       previous_agent=previous_agent, department=rule.department,
                       ladder=self.ladder_of(rule))


def parse(data: dict) -> RoutingInput:
    """Validate a plain dict; raises :class:`ConfigError` with every problem found."""
    try:
        parsed = RoutingInput.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
                           for e in exc.errors()]) from None
    problems = [f"rules.{rule.name}.ladder: unknown ladder {rule.ladder!r}"
                for rule in parsed.rules
                if isinstance(rule.ladder, str) and rule.ladder not in parsed.ladders]
    counts = Counter(agent.id for agent in parsed.agents)
    problems += [f"agents: duplicate id {i!r}" for i in sorted(i for i, n in counts.items() if n > 1)]
    if problems:
        raise ConfigError(problems)
    return parsed


def read_mapping(path: str | Path) -> dict:
    """The mapping a YAML or JSON file (by suffix; YAML otherwise) holds."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError([f"(file): cannot parse {path}: {exc}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(["(root): the file must hold a mapping"])
    return data


def load(path: str | Path) -> RoutingInput:
    """Read a YAML or JSON file and validate it."""
    return parse(read_mapping(path))
