"""Measurements of a simulated day and their summary.

- SLA attainment: per priority, the share of tickets whose first assignment (direct assignment
  or accepted offer) came within the target (a ticket never assigned counts as missed).
- Waits: first assignment minus arrival; tickets still unassigned at the end count with their
  wait so far (``censored`` says how many).
- Fairness: per hour of the day, Jain's index (sum x)^2 / (n sum x^2) of x = assignments per
  capacity-hour (total weighted units x hours online), over the agents online for at least half
  of that hour; hours without assignments are skipped.
- Occupancy: weighted units held (offers and assignments) / units online, per hour and overall.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict

from routing.fairness import jain
from routing.model import PRIORITIES, Decision, Request
from simulation.config_input import RoutingInput

HOUR = 3600.0


def spread(bins: list[float], start: float, end: float, value: float) -> None:
    """Add ``value`` per second of [start, end) into hourly ``bins``."""
    while start < end:
        hour = int(start // HOUR)
        if hour >= len(bins):
            return
        stop = min(end, (hour + 1) * HOUR)
        bins[hour] += (stop - start) * value
        start = stop


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Recorder:
    def __init__(self, config: RoutingInput, length_s: float):
        self.hours = max(1, math.ceil(length_s / HOUR))
        self.weights = config.make_policy()
        self.tickets: dict[str, list] = {}  # id -> [created, priority, target, first, hour]
        self.holding: dict[str, tuple] = {}  # ticket -> (agent, token, start, weight)
        self.token = 0
        self.busy = [0.0] * self.hours
        self.online_units = [0.0] * self.hours
        self.online_since: dict[str, tuple[float, float]] = {}
        self.agent_hours: dict[str, list[float]] = defaultdict(lambda: [0.0] * self.hours)
        self.agent_units: dict[str, float] = {}
        self.assignments: Counter = Counter()  # (agent, hour) -> count
        self.kinds: Counter = Counter()
        self.triggers: Counter = Counter()
        self.queue: list[tuple[float, int]] = []

    def arrival(self, request: Request, at: float) -> None:
        target = None if request.sla_due is None else request.sla_due - request.created
        self.tickets[request.id] = [at, request.priority, target, None, int(at // HOUR)]

    def presence(self, agent_id: str, status: str, at: float, units: float) -> None:
        self.agent_units[agent_id] = units
        since = self.online_since.pop(agent_id, None)
        if since is not None:
            spread(self.online_units, since[0], at, since[1])
            spread(self.agent_hours[agent_id], since[0], at, 1.0)
        if status == "online":
            self.online_since[agent_id] = (at, units)

    def holder(self, ticket_id: str) -> tuple | None:
        held = self.holding.get(ticket_id)
        return None if held is None else held[:2]

    def released(self, ticket_id: str, at: float) -> None:
        agent_id, _, start, weight = self.holding.pop(ticket_id)
        spread(self.busy, start, at, weight)

    def decision(self, decision: Decision, router) -> int:
        """Record one decision; the holder token of the ticket afterwards."""
        self.kinds[decision.kind] += 1
        self.triggers[decision.explanation.get("trigger")] += 1
        ticket_id, at = decision.ticket, decision.at
        accepted = decision.kind == "assign" and decision.explanation.get("trigger") == "accept"
        if decision.kind in ("offer", "wait", "park") or (decision.kind == "assign"
                                                          and not accepted):
            if ticket_id in self.holding:
                self.released(ticket_id, at)
        if decision.kind in ("offer", "assign") and not accepted:
            self.token += 1
            weight = self.weights.weight(router.tickets[ticket_id].channel)
            self.holding[ticket_id] = (decision.agent, self.token, at, weight)
        if decision.kind == "assign":
            record = self.tickets[ticket_id]
            if record[3] is None:
                record[3] = at
            self.assignments[(decision.agent, min(int(at // HOUR), self.hours - 1))] += 1
        held = self.holding.get(ticket_id)
        return held[1] if held else 0

    def sample(self, at: float, waiting: int) -> None:
        self.queue.append((at, waiting))

    def finish(self, end: float, router) -> None:
        for agent_id in list(self.online_since):
            self.presence(agent_id, "offline", end, self.agent_units[agent_id])
        for ticket_id in list(self.holding):
            self.released(ticket_id, end)
        self.end = end

    # -- summary ------------------------------------------------------------------------------
    def summary(self) -> dict:
        waits, by_hour = [], defaultdict(list)
        met, total = Counter(), Counter()
        censored = 0
        for created, priority, target, first, hour in self.tickets.values():
            wait = (first if first is not None else self.end) - created
            censored += first is None
            waits.append(wait)
            by_hour[hour].append(wait)
            total[priority] += 1
            met[priority] += first is not None and (target is None or wait <= target)
        fairness = self.fairness()
        scored = [j for j in fairness if j is not None]
        return {
            "tickets": len(self.tickets), "unassigned": censored,
            "sla_attainment": {p: round(met[p] / total[p], 4) for p in PRIORITIES if total[p]},
            "sla_attainment_all": round(sum(met.values()) / max(1, len(self.tickets)), 4),
            "wait_s": {"p50": percentile(waits, 50), "p90": percentile(waits, 90),
                       "p99": percentile(waits, 99), "censored": censored},
            "fairness_by_hour": fairness,
            "fairness_min": min(scored) if scored else None,
            "occupancy_by_hour": [round(b / u, 4) if u else None
                                  for b, u in zip(self.busy, self.online_units)],
            "occupancy": round(sum(self.busy) / sum(self.online_units), 4)
            if sum(self.online_units) else None,
            "wait_by_hour": [{"p50": percentile(by_hour[h], 50), "p90": percentile(by_hour[h], 90),
                              "tickets": len(by_hour[h])} for h in range(self.hours)],
            "queue": self.queue,
            "decisions": dict(self.kinds), "triggers": dict(self.triggers),
        }

    def fairness(self) -> list[float | None]:
        out = []
        for hour in range(self.hours):
            rates = []
            for agent_id, hours in self.agent_hours.items():
                online = hours[hour] / HOUR
                if online >= 0.5 and self.agent_units.get(agent_id):
                    count = self.assignments.get((agent_id, hour), 0)
                    rates.append(count / (online * self.agent_units[agent_id]))
            index = jain(rates) if rates and any(rates) else None
            out.append(None if index is None else round(index, 4))
        return out


def compare(current: dict, candidate: dict) -> dict:
    """Candidate minus current for the headline numbers."""
    def delta(a, b):
        return None if a is None or b is None else round(b - a, 4)
    return {
        "sla_attainment": {p: delta(current["sla_attainment"].get(p),
                                    candidate["sla_attainment"].get(p)) for p in PRIORITIES
                           if p in current["sla_attainment"] or p in candidate["sla_attainment"]},
        "sla_attainment_all": delta(current["sla_attainment_all"],
                                    candidate["sla_attainment_all"]),
        "wait_s": {k: delta(current["wait_s"][k], candidate["wait_s"][k])
                   for k in ("p50", "p90", "p99")},
        "fairness_min": delta(current["fairness_min"], candidate["fairness_min"]),
        "occupancy": delta(current["occupancy"], candidate["occupancy"]),
        "unassigned": candidate["unassigned"] - current["unassigned"],
    }
