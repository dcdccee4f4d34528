"""A workspace's ``routing:`` block (config/routing.py) as the input of ``simulation simulate``
and ``simulation lint`` (``RoutingInput``, simulation/config_input.py), so the real configuration
can be checked before it is activated:

    python -m simulation lint --config config/ticketgate.yaml --workspace demo --date 2026-03-02

:func:`load` reads either format: a file whose top level has ``workspaces:`` is a workspace
file, anything else the native input. Only the chosen workspace's ``routing:`` block is parsed
(API keys, channels and their environment variables are not looked at).

What carries over, for one simulated day (``day``; the CLI's default is the next Monday):

- ``policy`` and ``ladders`` as they are; ``sla`` (seconds per priority) from the first-response
  targets of the SLA policy ``default`` (no targets without one).
- agents: skills, departments, capacity and status as configured. ``total: 0`` means "only the
  channel limits" in the store (``tickets.route_store.total_units``), so it becomes the channel
  capacities weighted by the policy's channel weights. ``shift`` runs from the earliest opening
  to the latest closing of the agent's calendar that day (a lunch break is worked through); no
  calendar: all day. A calendar closed that day (a weekday without hours, a holiday) makes the
  agent offline all day; an agent configured away or offline stays so all day too (shift
  [0, 24], no presence changes), as in the store only the API changes a status.
- rules: one per workspace rule, with ``channels`` = ``match.channels`` (all four when it gives
  none), ``then``'s required, preferred, priority (medium when unset) and department, ``ladder``
  = ``then.ladder`` else ``default_ladder``, and ``sla_s`` = the first-response target for that
  priority of the rule's SLA policy (``then.sla`` else ``default``). A rule that marks tickets
  spam is left out (spam is never routed). The rule :data:`UNMATCHED` (every channel, no skills,
  medium, the default ladder, the default SLA) stands for the traffic no rule matches; it is left
  out when some rule matches everything.

What does not carry over:

- which traffic hits which rule. Recipients, senders, subject and text regexes, languages,
  customer tags and hours depend on messages a generated day does not have, so every rule and
  :data:`UNMATCHED` get ``share`` 1, equal parts of the day. For a realistic mix pass
  ``simulate --share RULE=WEIGHT`` or replay a recorded day (``--day``).
- merging: a message matching several rules gets their merged ``then`` in the pipeline; here each
  rule's tickets carry their own rule's only. Priority raisers (keywords, VIP) and the language
  skill (``language.skill``) depend on the message text and are not applied.
- business time: SLA targets count wall-clock seconds from arrival (the policy's calendar is not
  applied), and the simulator measures first *assignment*, not first response. A rule whose SLA
  policy has no first-response target for its priority gets the default policy's.
- calendars reduce to one shift per agent on that day. The hours of the simulated day are the
  local time of the default SLA policy's calendar, else of the first calendar listed, else UTC;
  a calendar in another time zone is converted to it (and cut at its midnight).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path

from pydantic import ValidationError

from config.routing import AgentSpec, Routing
from routing.calendar import UTC, Calendar
from routing.model import PRIORITIES, Policy
from routing.rules_schema import CHANNELS, ActionIn, RuleIn
from routing.schema import ConfigError
from routing.sla import SlaIn
from simulation.config_input import RoutingInput, parse, read_mapping

UNMATCHED = "(unmatched)"  # the catch-all rule's name
ONE_DAY = timedelta(days=1)


def load(path: str | Path, workspace: str | None = None, day: date | None = None
         ) -> RoutingInput:
    """A native input file, or the routing block of workspace ``workspace`` of a workspace file
    on ``day`` (default: the next Monday); ``workspace`` and ``day`` only apply to the latter."""
    data = read_mapping(path)
    if "workspaces" not in data:
        return parse(data)
    index, block = pick_workspace(data["workspaces"], path, workspace)
    return convert(validate_routing(block, f"workspaces.{index}.routing"),
                   day or next_monday(date.today()))


def pick_workspace(workspaces: object, path: str | Path, slug: str | None) -> tuple[int, dict]:
    """(position, routing block) of the workspace ``slug``; without a slug, of the only one with
    a routing block."""
    if not isinstance(workspaces, list) or not all(isinstance(w, dict) for w in workspaces):
        raise ConfigError(["workspaces: must be a list of workspace mappings"])
    slugs = [str(w.get("slug", "")) for w in workspaces]
    with_routing = [n for n, w in enumerate(workspaces) if w.get("routing") is not None]
    if slug is None and len(with_routing) != 1:
        listed = ", ".join(slugs[n] for n in with_routing) or "none"
        raise ConfigError([f"--workspace: {path} has {len(with_routing)} workspaces with a "
                           f"routing block ({listed}); choose one with --workspace SLUG"])
    if slug is None:
        index = with_routing[0]
    elif slug in slugs:
        index = slugs.index(slug)
    else:
        raise ConfigError([f"--workspace: no workspace {slug!r} in {path}; its workspaces: "
                           f"{', '.join(slugs) or 'none'}"])
    if workspaces[index].get("routing") is None:
        raise ConfigError([f"workspaces.{index}.routing: workspace {slugs[index]!r} has no "
                           f"routing block"])
    return index, workspaces[index]["routing"]


def validate_routing(block: object, where: str) -> Routing:
    """The block validated; ``ConfigError`` with one "path: message" per problem, paths from the
    top of the workspace file (``where`` is the block's own path)."""
    try:
        return Routing.model_validate(block)
    except ValidationError as exc:
        raise ConfigError([problem for error in exc.errors()
                           for problem in _problems(error, where)]) from None


def _problems(error: dict, where: str) -> list[str]:
    loc = ".".join(map(str, error["loc"]))
    if loc:
        return [f"{where}.{loc}: {error['msg']}"]
    if error["type"] != "value_error":
        return [f"{where}: {error['msg']}"]
    # Routing's cross-reference check reports "path: message" parts joined by "; "
    parts = error["msg"].removeprefix("Value error, ").split("; ")
    return [f"{where}.{part}" for part in parts]


def next_monday(today: date) -> date:
    """The first Monday after ``today``."""
    return today + timedelta(days=7 - today.weekday())


def convert(routing: Routing, day: date) -> RoutingInput:
    """The simulator/linter input equivalent to ``routing`` on ``day`` (module docstring)."""
    policy, zone = routing.make_policy(), simulation_zone(routing)
    return parse({
        "policy": routing.policy.model_dump(),
        "sla": first_response_targets(routing.sla_policy(None)),
        "ladders": {name: [step.model_dump() for step in steps]
                    for name, steps in routing.ladders.items()},
        "agents": [_agent(spec, routing, policy, day, zone) for spec in routing.agents],
        "rules": _rules(routing),
    })


def simulation_zone(routing: Routing) -> tzinfo:
    """Whose wall clock the simulated day's hours are (module docstring)."""
    default = routing.sla_policy(None)
    name = (default.calendar if default and default.calendar
            else next(iter(routing.calendars), None))
    return routing.calendar(name).tz if name else UTC


def first_response_targets(policy: SlaIn | None) -> dict[str, float]:
    targets = {p: first_response(policy, p) for p in PRIORITIES}
    return {p: seconds for p, seconds in targets.items() if seconds is not None}


def first_response(policy: SlaIn | None, priority: str) -> float | None:
    return None if policy is None else policy.targets(priority).first_response


def weighted_total(spec: AgentSpec, policy: Policy) -> float:
    """The agent's total in weighted units, as the store computes it."""
    return spec.total or sum(policy.weight(c) * n for c, n in spec.capacity.items())


def _agent(spec: AgentSpec, routing: Routing, policy: Policy, day: date, zone: tzinfo) -> dict:
    status, shift = spec.status, (0.0, 24.0)
    if status == "online":
        hours = shift_hours(routing.calendar(spec.calendar), day, zone)
        status, shift = ("online", hours) if hours else ("offline", shift)
    return {"id": spec.id, "skills": dict(spec.skills), "departments": list(spec.departments),
            "capacity": dict(spec.capacity), "total": weighted_total(spec, policy),
            "status": status, "shift": shift}


def shift_hours(calendar: Calendar, day: date, zone: tzinfo) -> tuple[float, float] | None:
    """(earliest opening, latest closing) of ``calendar`` during ``day``, as hours of the wall
    clock of ``zone`` (0-24); None when it is closed all day."""
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + ONE_DAY, time(), zone).astimezone(UTC)
    spans = list(_open_spans(calendar, start, end))
    if not spans:
        return None
    return _hour(spans[0][0], day, zone), _hour(spans[-1][1], day, zone)


def _open_spans(calendar: Calendar, start: datetime, end: datetime):
    """The calendar's open spans within [start, end), cut at both ends."""
    at = start
    while at < end:
        try:
            opened = calendar.next_open(at)
        except ValueError:  # no opening for years
            return
        if opened is None or opened >= end:
            return
        closes = calendar.next_change(opened)
        at = end if closes is None else min(closes, end)
        yield opened, at


def _hour(at: datetime, day: date, zone: tzinfo) -> float:
    wall = at.astimezone(zone).replace(tzinfo=None) - datetime.combine(day, time())
    return round(wall.total_seconds() / 3600, 4)


def _rules(routing: Routing) -> list[dict]:
    rules = [_rule(rule, routing) for rule in routing.rules if rule.then.status != "spam"]
    if not any(matches_everything(rule) for rule in routing.rules):
        names, name = {rule.name for rule in routing.rules}, UNMATCHED
        while name in names:
            name += "'"
        rules.append(_rule(RuleIn(name=name, then=ActionIn()), routing))
    return rules


def _rule(rule: RuleIn, routing: Routing) -> dict:
    then, priority = rule.then, rule.then.priority or "medium"
    return {"name": rule.name, "channels": list(rule.match.channels or CHANNELS),
            "required": dict(then.required), "preferred": dict(then.preferred),
            "priority": priority, "department": then.department,
            "ladder": then.ladder or routing.default_ladder,
            "sla_s": first_response(routing.sla_policy(then.sla), priority)}


def matches_everything(rule: RuleIn) -> bool:
    """No condition but, at most, every channel: no message escapes the rule."""
    conditions = rule.match.model_dump(exclude_defaults=True)
    return (set(conditions) <= {"channels"}
            and set(conditions.get("channels", CHANNELS)) == set(CHANNELS))
