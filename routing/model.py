"""The routing engine's data model: agents, requests to route, ladder steps, policy and decisions.

Everything here is plain data. Time is a float of seconds (any epoch: the caller's clock or the
simulator's), passed explicitly to every engine call so the engine stays pure and replayable.
Fields marked "engine state" are owned by :class:`routing.engine.Router` and must not be changed
by the caller while the object is registered with a router.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PRIORITIES = ("low", "medium", "high", "urgent")  # the one list; lowest first: index = rank
PRIORITY_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}
PRIORITIES_HIGHEST_FIRST = PRIORITIES[::-1]       # the order the API and its docs list them in
STATUSES = ("online", "away", "offline")
ABSENCE_POLICIES = ("keep", "requeue_all", "requeue_unanswered")
STEP_ACTIONS = ("drop_preferred", "lower_levels", "widen", "park", "escalate")
TERMINAL_ACTIONS = ("park", "escalate")
DEFAULT_WEIGHTS = {"chat": 3, "telegram": 2, "email": 1, "form": 1}
MAX_LEVEL = 5

#: Decision kinds. ``assign`` and ``offer`` name an agent; the others do not.
DecisionKind = Literal["assign", "offer", "wait", "park", "escalate"]


def department_skill(department: str) -> str:
    """The pseudo-skill every member of ``department`` holds at the top level."""
    return f"dept:{department}"


@dataclass(slots=True)
class Agent:
    """An agent who can take tickets.

    ``capacity`` is the number of concurrent tickets per channel (a missing channel is 0: the
    agent does not serve it); ``total`` caps the weighted sum of the load (channel weights from
    :class:`Policy`). ``available`` is computed by the caller (business hours, calendar, shift).
    """

    id: str
    skills: dict[str, int] = field(default_factory=dict)
    capacity: dict[str, int] = field(default_factory=dict)
    total: float = 0
    status: str = "offline"
    available: bool = True
    departments: frozenset[str] = frozenset()
    last_assigned: float = float("-inf")  # never
    load: dict[str, int] = field(default_factory=dict)  # engine state: tickets per channel
    used: float = 0.0  # engine state: weighted units in use

    def effective_skills(self) -> dict[str, int]:
        """Skills plus one ``dept:<name>`` pseudo-skill per department (at the top level)."""
        skills = dict(self.skills)
        for name in self.departments:
            skills[department_skill(name)] = MAX_LEVEL
        return skills


@dataclass(frozen=True, slots=True)
class Step:
    """One rung of a relaxation ladder: ``action`` applies after ``after_s`` seconds of waiting
    at the previous rung (scaled down as the SLA due time approaches).

    ``drop_preferred``: preferred skills stop being required (before this step they are required
    at level 1; a ladder without it never requires them). ``lower_levels``: every required level
    drops by ``by`` (not below 1). ``widen``: the requirement becomes membership of
    ``department`` (default: the request's) plus the skills listed in ``keep``. ``park``: the
    ticket leaves the automatic queue. ``escalate``: the ticket's priority becomes ``priority``
    (default one rank higher) and a decision tells the caller to notify; it keeps waiting.
    """

    action: str
    after_s: float
    by: int = 1
    department: str | None = None
    keep: tuple[str, ...] = ()
    priority: str | None = None


@dataclass(slots=True)
class Request:
    """A ticket to route. ``required`` maps skill -> minimum level; ``preferred`` skill -> weight."""

    id: str
    channel: str
    required: dict[str, int] = field(default_factory=dict)
    preferred: dict[str, float] = field(default_factory=dict)
    priority: str = "medium"
    created: float = 0.0
    sla_due: float | None = None
    excluded: set[str] = field(default_factory=set)
    previous_agent: str | None = None
    department: str | None = None
    ladder: tuple[Step, ...] = ()
    step: int = 0  # engine state: ladder steps applied
    step_entered: float = 0.0  # engine state: when the current rung began
    enqueued: float | None = None  # engine state: when it first waited (kept across requeues)
    state: str = "new"  # engine state: new, waiting, parked, offered, assigned, done
    agent: str | None = None  # engine state: assignee or offeree
    answered: bool = False  # set through Router.mark_answered


@dataclass(slots=True)
class Policy:
    """Engine-wide settings (one per workspace)."""

    channel_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    offer_channels: frozenset[str] = frozenset({"chat", "telegram"})
    offer_timeout_s: float = 30.0
    timeout_sets_away: bool = False
    on_absence: str = "requeue_unanswered"
    aging_step_s: float = 600.0  # seconds of waiting worth one priority level
    aging_bound: int = 2  # at most this many levels gained by age
    surplus_weight: float = 0.1  # score per level above a required minimum
    load_bands: int = 2  # 0: exact load ratio; n: ratios compared in n bands (idle time decides)
    near_misses: int = 5

    def weight(self, channel: str) -> float:
        return self.channel_weights.get(channel, 1)

    def validate(self) -> None:
        if self.on_absence not in ABSENCE_POLICIES:
            raise ValueError(f"on_absence must be one of {ABSENCE_POLICIES}")
        if self.aging_step_s <= 0 or self.offer_timeout_s <= 0:
            raise ValueError("aging_step_s and offer_timeout_s must be > 0")
        if int(self.aging_bound) != self.aging_bound or self.aging_bound < 0:
            raise ValueError("aging_bound must be a whole number of levels >= 0")


@dataclass(slots=True)
class Decision:
    """What the engine decided for one ticket, with a JSON-serializable ``explanation``.

    Explanation keys: ``trigger`` (arrival, capacity, ladder, offer_timeout, decline, absence,
    reroute), ``step`` (ladder rungs applied) and ``step_action``, ``requirement`` (the effective
    required skills), ``eligible`` (count), ``chosen`` (score components of the chosen agent),
    ``near_misses`` ([{agent, reasons: [{code, ...}]}]) and, for waits, ``queue`` details.
    """

    ticket: str
    kind: str
    agent: str | None
    at: float
    explanation: dict

    def as_dict(self) -> dict:
        return {"ticket": self.ticket, "kind": self.kind, "agent": self.agent, "at": self.at,
                "explanation": self.explanation}
