"""The ``routing`` block of a workspace (docs/routing.md): agents, rules, priority
raisers, language detection, calendars, SLA policies, relaxation ladders, automation.

    routing:
      policy: {offer_channels: [], load_bands: 2, on_absence: requeue_unanswered}
      calendars: {office: {timezone: Europe/Prague, hours: {mon: ["09:00-17:00"]}}}
      agents:                    # seeds: created when missing, the API owns them afterwards
        - {id: alice, skills: {"lang:cs": 5, billing: 3}, capacity: {email: 5, chat: 2},
           calendar: office, status: online}
      rules:
        - {name: billing, match: {subject: "invoice|refund"}, then: {required: {billing: 2}}}
      priority: {keywords: {urgent: [outage]}, vip_tags: [vip]}
      language: {candidates: [cs, en], skill: preferred}
      ladders: {default: [{action: drop_preferred, after_s: 120}, {action: escalate, after_s: 900}]}
      sla: {default: {medium: {first_response: 4h, resolution: 3d}, calendar: office}}
      automation: {auto_resolve_after: 5d, auto_close_after: 7d, on_breach: [notify, reroute]}

Names (calendars, ladders, SLA policies) are checked across the block; every error names its
path. Routing is on when the block lists at least one agent or rule.
"""
from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import Field, field_validator, model_validator

from routing.calendar import Calendar
from routing.calendar_input import CalendarIn
from routing.model import Policy, Step
from routing.policy_schema import PolicyIn, StepIn
from routing.rules import PriorityIn, RuleIn, Rules
from routing.schema import Strict, check_capacities, check_levels
from routing.sla import SlaIn, parse_duration

AGENT_ID = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$"
BREACH_ACTIONS = ("notify", "raise_priority", "reroute")


class AgentSpec(Strict):
    id: str = Field(pattern=AGENT_ID)
    name: str = ""
    email: str = ""
    skills: dict[str, int] = {}
    departments: tuple[str, ...] = ()
    capacity: dict[str, int] = {}
    total: float = Field(0, ge=0, description="weighted units; 0: only the channel limits")
    status: Literal["online", "away", "offline"] = "offline"
    calendar: str = ""

    _check_levels = field_validator("skills")(check_levels)
    _check_capacity = field_validator("capacity")(check_capacities)


class LanguageIn(Strict):
    detect: bool = True
    candidates: tuple[str, ...] = ()
    skill: Literal["off", "required", "preferred"] = "off"
    level: int = Field(1, ge=1, le=5, description="minimum level of a required lang:<code>")
    weight: float = Field(1.0, gt=0, description="weight of a preferred lang:<code>")

    @field_validator("candidates")
    @classmethod
    def _known(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if values:
            from routing.language import known_languages  # loads the model: only when used
            unknown = sorted(set(values) - known_languages())
            if unknown:
                raise ValueError(f"unknown language code(s): {', '.join(unknown)}")
        return values


class AutomationIn(Strict):
    auto_resolve_after: str | int | None = None   # answered, customer silent that long
    auto_close_after: str | int | None = None     # resolved that long
    on_breach: tuple[Literal[BREACH_ACTIONS], ...] = ("notify",)  # type: ignore[valid-type]
    sweep_interval_s: float = Field(30, gt=0, le=3600)

    @field_validator("auto_resolve_after", "auto_close_after")
    @classmethod
    def _duration(cls, value):
        if value is not None:
            parse_duration(value)
        return value

    def seconds(self, name: str) -> float | None:
        value = getattr(self, name)
        return None if value is None else parse_duration(value)


class Routing(Strict):
    policy: PolicyIn = PolicyIn(offer_channels=[])
    calendars: dict[str, CalendarIn] = {}
    agents: tuple[AgentSpec, ...] = ()
    rules: tuple[RuleIn, ...] = ()
    priority: PriorityIn = PriorityIn()
    language: LanguageIn = LanguageIn()
    ladders: dict[str, tuple[StepIn, ...]] = {}
    default_ladder: str | None = None
    sla: dict[str, SlaIn] = {}
    automation: AutomationIn = AutomationIn()

    @model_validator(mode="after")
    def _names(self):
        problems = [f"agents.{a.id}.calendar: unknown calendar {a.calendar!r}"
                    for a in self.agents if a.calendar and a.calendar not in self.calendars]
        ids = [a.id for a in self.agents]
        problems += [f"agents: duplicate id {i!r}" for i in sorted({i for i in ids
                                                                    if ids.count(i) > 1})]
        names = [r.name for r in self.rules]
        problems += [f"rules: duplicate name {n!r}" for n in sorted({n for n in names
                                                                     if names.count(n) > 1})]
        for rule in self.rules:
            if rule.then.ladder and rule.then.ladder not in self.ladders:
                problems.append(f"rules.{rule.name}.then.ladder: unknown ladder "
                                f"{rule.then.ladder!r}")
            if rule.then.sla and rule.then.sla not in self.sla:
                problems.append(f"rules.{rule.name}.then.sla: unknown SLA policy "
                                f"{rule.then.sla!r}")
        if self.default_ladder and self.default_ladder not in self.ladders:
            problems.append(f"default_ladder: unknown ladder {self.default_ladder!r}")
        problems += [f"sla.{name}.calendar: unknown calendar {spec.calendar!r}"
                     for name, spec in self.sla.items()
                     if spec.calendar and spec.calendar not in self.calendars]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def __hash__(self) -> int:  # holds dicts and lists: hashed by its canonical JSON
        return hash(self._fingerprint)

    @cached_property
    def _fingerprint(self) -> str:
        return self.model_dump_json()

    @property
    def enabled(self) -> bool:
        return bool(self.agents or self.rules)

    def make_policy(self) -> Policy:
        return self.policy.policy()

    @cached_property
    def compiled_rules(self) -> Rules:
        return Rules(list(self.rules))

    @cached_property
    def built_calendars(self) -> dict[str, Calendar]:
        return {name: spec.build() for name, spec in self.calendars.items()}

    def calendar(self, name: str) -> Calendar:
        """The named calendar; always open for an empty or unknown name."""
        return self.built_calendars.get(name) or Calendar.always()

    def ladder(self, name: str | None) -> tuple[Step, ...]:
        steps = self.ladders.get(name or self.default_ladder or "", ())
        return tuple(step.step() for step in steps)

    def sla_policy(self, name: str | None) -> SlaIn | None:
        return self.sla.get(name or "default")
