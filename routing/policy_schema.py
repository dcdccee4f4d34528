"""The schema of a routing policy and of the steps of a relaxation ladder, shared by the
workspace file (``config.routing``) and the simulator's input (``simulation.config_input``).

    policy: {channel_weights: {chat: 3, telegram: 2, email: 1, form: 1},
             offer_channels: [chat, telegram], offer_timeout_s: 30,
             on_absence: requeue_unanswered, aging_step_s: 600, aging_bound: 2,
             surplus_weight: 0.1, load_bands: 2, near_misses: 5}
    ladders:
      default:
        - {action: drop_preferred, after_s: 60}
        - {action: lower_levels, after_s: 120, by: 1}
        - {action: widen, after_s: 300, department: general, keep: ["lang:cs"]}
        - {action: escalate, after_s: 600}
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from routing.model import (ABSENCE_POLICIES, DEFAULT_WEIGHTS, PRIORITIES, STEP_ACTIONS, Policy,
                           Step)
from routing.schema import Strict


class StepIn(Strict):
    action: Literal[STEP_ACTIONS]  # type: ignore[valid-type]
    after_s: float = Field(ge=0)
    by: int = Field(default=1, ge=1, le=4)
    department: str | None = None
    keep: list[str] = []
    priority: Literal[PRIORITIES] | None = None  # type: ignore[valid-type]

    def step(self) -> Step:
        return Step(self.action, self.after_s, self.by, self.department, tuple(self.keep),
                    self.priority)


class PolicyIn(Strict):
    channel_weights: dict[str, float] = dict(DEFAULT_WEIGHTS)
    offer_channels: list[str] = ["chat", "telegram"]
    offer_timeout_s: float = Field(default=30, gt=0)
    timeout_sets_away: bool = False
    on_absence: Literal[ABSENCE_POLICIES] = "requeue_unanswered"  # type: ignore[valid-type]
    aging_step_s: float = Field(default=600, gt=0)
    aging_bound: int = Field(default=2, ge=0, le=10)
    surplus_weight: float = Field(default=0.1, ge=0)
    load_bands: int = Field(default=2, ge=0, le=100)
    near_misses: int = Field(default=5, ge=0)

    def policy(self) -> Policy:
        return Policy(channel_weights=dict(self.channel_weights),
                      offer_channels=frozenset(self.offer_channels),
                      offer_timeout_s=self.offer_timeout_s,
                      timeout_sets_away=self.timeout_sets_away, on_absence=self.on_absence,
                      aging_step_s=self.aging_step_s, aging_bound=self.aging_bound,
                      surplus_weight=self.surplus_weight, load_bands=self.load_bands,
                      near_misses=self.near_misses)
