"""A day of traffic for the simulator: generated from a config, or read from JSON lines.

Recorded format, one JSON object per line, ``t`` in seconds from the start of the day:

    {"t": 30.5, "type": "ticket", "id": "T1", "channel": "email", "rule": "billing-cs",
     "handle_s": 420}
    {"t": 28800, "type": "presence", "agent": "alice", "status": "online"}

A ticket names a ``rule`` of the simulated config (its requirement comes from whichever config
is being simulated, so a candidate config changes it) or carries its own ``required``,
``preferred``, ``priority`` and ``sla_s``; optional ``previous_agent``. ``handle_s`` (how long
the agent works on it) defaults to an exponential draw around the config's mean per channel.
"""
from __future__ import annotations

import bisect
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from routing.schema import ConfigError
from simulation.config_input import RoutingInput

DAY_S = 86_400.0


@dataclass(slots=True)
class TicketArrival:
    t: float
    id: str
    channel: str
    handle_s: float
    rule: str | None = None
    required: dict = field(default_factory=dict)
    preferred: dict = field(default_factory=dict)
    priority: str = "medium"
    sla_s: float | None = None
    previous_agent: str | None = None


@dataclass(slots=True)
class Presence:
    t: float
    agent: str
    status: str


@dataclass
class Day:
    tickets: list[TicketArrival]
    presence: list[Presence]
    length_s: float = DAY_S


def arrival_weight(hour: float) -> float:
    """Relative arrival rate over the day: quiet night, a morning and an afternoon peak."""
    return (0.05 + math.exp(-((hour - 10.5) / 2.0) ** 2)
            + 0.8 * math.exp(-((hour - 14.5) / 2.5) ** 2))


def arrival_times(count: int, rng: random.Random, length_s: float = DAY_S) -> list[float]:
    """``count`` sorted arrival times drawn from :func:`arrival_weight` (per-minute bins)."""
    minutes = int(length_s // 60)
    cumulative = []
    running = 0.0
    for minute in range(minutes):
        running += arrival_weight((minute + 0.5) / 60 * 86_400 / length_s)
        cumulative.append(running)
    times = []
    for _ in range(count):
        minute = bisect.bisect_left(cumulative, rng.random() * running)
        times.append((min(minute, minutes - 1) + rng.random()) * 60)
    times.sort()
    return times


def generate(config: RoutingInput, tickets: int | None = None, seed: int | None = None) -> Day:
    """A generated day: arrivals over the curve, rules by share, channels by the mix."""
    sim = config.simulation
    rng = random.Random(sim.seed if seed is None else seed)
    count = sim.tickets if tickets is None else tickets
    rules = [rule for rule in config.rules if rule.share > 0]
    if count and not rules:
        raise ConfigError(["rules: a generated day needs at least one rule with share > 0"])
    shares = [rule.share for rule in rules]
    arrivals = []
    for n, t in enumerate(arrival_times(count, rng)):
        rule = rng.choices(rules, shares)[0]
        mix = [sim.channel_mix.get(channel, 0.0) or 0.01 for channel in rule.channels]
        channel = rng.choices(rule.channels, mix)[0]
        mean = sim.handle_s.get(channel, 300.0)
        arrivals.append(TicketArrival(t, f"T{n + 1}", channel, rng.expovariate(1 / mean),
                                      rule=rule.name))
    presence = []
    for agent in config.agents:
        start, end = agent.shift
        if start > 0:
            presence.append(Presence(0.0, agent.id, "offline"))
            presence.append(Presence(start * 3600, agent.id, "online"))
        if end < 24:
            presence.append(Presence(end * 3600, agent.id, "offline"))
    presence.sort(key=lambda p: p.t)
    return Day(arrivals, presence)


def read(path: str | Path, config: RoutingInput, seed: int = 1) -> Day:
    """A recorded day from JSON lines (see the module docstring)."""
    rng = random.Random(seed)
    tickets, presence = [], []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            kind = item["type"]
            if kind == "ticket":
                tickets.append(_ticket(item, config, rng))
            elif kind == "presence":
                presence.append(Presence(float(item["t"]), str(item["agent"]), item["status"]))
            else:
                raise ValueError(f"unknown type {kind!r}")
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError([f"{path}:{number}: {exc}"]) from None
    tickets.sort(key=lambda a: a.t)
    presence.sort(key=lambda p: p.t)
    last = max([a.t for a in tickets] + [p.t for p in presence] + [DAY_S])
    return Day(tickets, presence, last)


def _ticket(item: dict, config: RoutingInput, rng: random.Random) -> TicketArrival:
    channel = str(item["channel"])
    handle = item.get("handle_s")
    if handle is None:
        handle = rng.expovariate(1 / config.simulation.handle_s.get(channel, 300.0))
    return TicketArrival(float(item["t"]), str(item["id"]), channel, float(handle),
                         rule=item.get("rule"), required=dict(item.get("required", {})),
                         preferred=dict(item.get("preferred", {})),
                         priority=item.get("priority", "medium"), sla_s=item.get("sla_s"),
                         previous_agent=item.get("previous_agent"))


def write(day: Day, path: str | Path) -> None:
    """Save a day as JSON lines (a generated day can be replayed as a recorded one)."""
    lines = [json.dumps({"type": "presence", "t": p.t, "agent": p.agent, "status": p.status})
             for p in day.presence]
    for a in day.tickets:
        item = {"type": "ticket", "t": a.t, "id": a.id, "channel": a.channel,
                "handle_s": a.handle_s}
        if a.rule:
            item["rule"] = a.rule
        else:
            item.update(required=a.required, preferred=a.preferred, priority=a.priority,
                        sla_s=a.sla_s)
        lines.append(json.dumps(item))
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
