"""The pending queue: waiting tickets grouped so freed capacity finds its ticket fast.

Order across the queue, best first: effective priority, then SLA due time, then age (enqueue
time), then ticket id. Effective priority = rank (low 0 .. urgent 3) + one level per full aging
step waited, at most ``aging_bound`` levels: it grows with waiting time up to a bound, so no
ticket starves, and within one level the SLA due time decides.

Tickets are grouped by (channel, effective requirement); a group keeps one bucket per base
priority and remembers which agents qualify for it (hold every required skill at its level,
computed once from the agent index when the group is first needed, kept current on skill
changes).
``served[agent][channel]`` lists the groups an agent qualifies for, so freed capacity only peeks
at buckets it can actually take from. A bucket keeps one heap per aging level ordered by (SLA
due, age) and, below the top level, a heap by age that tells which tickets have aged into the
next level. Tickets with excluded agents (declined offers) sit in a small per-group side list.
Removal is lazy: heap entries carry a sequence number checked against ``live``.
"""
from __future__ import annotations

import heapq
import math
from collections import defaultdict
from typing import Callable

from routing.model import PRIORITIES, PRIORITY_RANK, Policy, Request

INF = math.inf


class Bucket:
    __slots__ = ("rank", "by_sla", "by_age", "next_move")

    def __init__(self, rank: int, levels: int):
        self.rank = rank
        self.next_move = INF  # no ticket ages into the next level before this time
        self.by_sla: list[list[tuple]] = [[] for _ in range(levels + 1)]  # (sla, enq, id, seq)
        self.by_age: list[list[tuple]] = [[] for _ in range(levels)]  # (enq, sla, id, seq)

    def __bool__(self) -> bool:
        return any(self.by_sla)


class Group:
    __slots__ = ("key", "channel", "required", "buckets", "excepted")

    def __init__(self, key: tuple, levels: int):
        self.key = key
        self.channel = key[0]
        self.required = dict(key[1])
        self.buckets = [Bucket(rank, levels) for rank in range(len(PRIORITIES))]
        self.excepted: dict[str, tuple] = {}  # ticket id -> (rank, enqueued, sla, excluded)


class PendingQueue:
    """Waiting tickets of one router. ``qualified(required)`` returns the ids of the agents that
    hold every required skill at its level (presence and capacity aside)."""

    def __init__(self, policy: Policy, qualified: Callable[[dict], set[str]]):
        self.step = policy.aging_step_s
        self.levels = int(policy.aging_bound)
        self.qualified = qualified
        self.groups: dict[tuple, Group] = {}
        self.served: dict[str, dict[str, list[Group]]] = defaultdict(lambda: defaultdict(list))
        self.live: dict[str, tuple] = {}  # ticket id -> (group key, seq)
        self.seq = 0
        self.unserved: list[Group] = []  # new groups whose agents are not in ``served`` yet

    def __len__(self) -> int:
        return len(self.live)

    def __contains__(self, ticket_id: str) -> bool:
        return ticket_id in self.live

    def push(self, request: Request, required: dict[str, int]) -> None:
        self.remove(request.id)
        key = (request.channel, tuple(sorted(required.items())))
        group = self.groups.get(key) or self._new_group(key)
        self.seq += 1
        sla = request.sla_due if request.sla_due is not None else INF
        rank = PRIORITY_RANK[request.priority]
        if request.excluded:
            group.excepted[request.id] = (rank, request.enqueued, sla, frozenset(request.excluded))
        else:
            self._place(group.buckets[rank], 0, request.enqueued, sla, request.id, self.seq)
        self.live[request.id] = (key, self.seq)

    def _place(self, bucket: Bucket, level: int, enqueued: float, sla: float, ticket_id: str,
               seq: int) -> None:
        heapq.heappush(bucket.by_sla[level], (sla, enqueued, ticket_id, seq))
        if level < self.levels:
            heapq.heappush(bucket.by_age[level], (enqueued, sla, ticket_id, seq))
            bucket.next_move = min(bucket.next_move, enqueued + (level + 1) * self.step)

    def _new_group(self, key: tuple) -> Group:
        group = self.groups[key] = Group(key, self.levels)
        self.unserved.append(group)
        return group

    def _serve(self) -> None:
        """Enter the new groups in ``served`` of the agents qualified for them now: done on
        the first use, so a router that forgets its tickets after each decision (a store's
        cached router) never pays for it."""
        for group in self.unserved:
            for agent_id in self.qualified(group.required):
                self.served[agent_id][group.channel].append(group)
        self.unserved = []

    def remove(self, ticket_id: str) -> bool:
        entry = self.live.pop(ticket_id, None)
        if entry is None:
            return False
        self.groups[entry[0]].excepted.pop(ticket_id, None)
        return True

    def agent_changed(self, agent_id: str, skills: dict[str, int] | None) -> None:
        """Recompute the groups an agent qualifies for (skills changed, agent added/removed)."""
        self._serve()
        self.served.pop(agent_id, None)
        if skills is None:
            return
        for group in self.groups.values():
            if _serves(skills, group.required):
                self.served[agent_id][group.channel].append(group)

    def _top(self, group: Group, bucket: Bucket, now: float) -> tuple | None:
        """Order key of the bucket's best live ticket: tickets that aged into the next level move
        up first, stale entries are dropped on the way."""
        live, key = self.live, group.key
        if now >= bucket.next_move:
            self._age(bucket, key, now)
        for level in range(self.levels, -1, -1):
            by_sla = bucket.by_sla[level]
            while by_sla and live.get(by_sla[0][2]) != (key, by_sla[0][3]):
                heapq.heappop(by_sla)
            if by_sla:
                sla, enqueued, ticket_id, _ = by_sla[0]
                return (-(bucket.rank + level), sla, enqueued, ticket_id)
        return None

    def _age(self, bucket: Bucket, key: tuple, now: float) -> None:
        """Move the tickets that waited long enough into their next level."""
        live, step = self.live, self.step
        bucket.next_move = INF
        for level in range(self.levels):
            by_age = bucket.by_age[level]
            limit = now - (level + 1) * step
            while by_age:
                enqueued, sla, ticket_id, seq = by_age[0]
                if live.get(ticket_id) != (key, seq):
                    heapq.heappop(by_age)
                elif enqueued <= limit:
                    heapq.heappop(by_age)
                    self.seq += 1
                    live[ticket_id] = (key, self.seq)
                    self._place(bucket, level + 1, enqueued, sla, ticket_id, self.seq)
                else:
                    break
            if by_age:
                bucket.next_move = min(bucket.next_move, by_age[0][0] + (level + 1) * step)

    def order(self, rank: int, enqueued: float, sla: float, ticket_id: str, now: float) -> tuple:
        """The queue order key (smaller is better) of one ticket at ``now``."""
        level = min(self.levels, int(max(0.0, now - enqueued) // self.step))
        return (-(rank + level), sla, enqueued, ticket_id)

    def best_for(self, agent_id: str, channels, now: float) -> str | None:
        """The best waiting ticket ``agent_id`` qualifies for on any of ``channels``.

        Buckets are visited from the highest base priority down; a lower one is skipped once
        the best ticket found outranks anything it could hold even fully aged."""
        self._serve()
        served = self.served.get(agent_id)
        if not served:
            return None
        groups = [group for channel in channels for group in served.get(channel, ())]
        best = None
        ceiling = self.levels
        for rank in range(len(PRIORITIES) - 1, -1, -1):
            if best is not None and -best[0] > rank + ceiling:
                break
            for group in groups:
                bucket = group.buckets[rank]
                if bucket:
                    top = self._top(group, bucket, now)
                    if top is not None and (best is None or top < best):
                        best = top
        for group in groups:
            for ticket_id, (rank, enqueued, sla, excluded) in group.excepted.items():
                if agent_id not in excluded:
                    top = self.order(rank, enqueued, sla, ticket_id, now)
                    if best is None or top < best:
                        best = top
        return best[3] if best else None

    def ordered(self, now: float, limit: int | None = None) -> list[str]:
        """Live ticket ids, best first (a snapshot for reports and tests, not the hot path)."""
        keys = []
        for group in self.groups.values():
            for bucket in group.buckets:
                for heap in bucket.by_sla:
                    for sla, enqueued, ticket_id, seq in heap:
                        if self.live.get(ticket_id) == (group.key, seq):
                            keys.append(self.order(bucket.rank, enqueued, sla, ticket_id, now))
            for ticket_id, (rank, enqueued, sla, _) in group.excepted.items():
                keys.append(self.order(rank, enqueued, sla, ticket_id, now))
        keys.sort()
        return [k[3] for k in (keys if limit is None else keys[:limit])]


def _serves(skills: dict[str, int], required: dict[str, int]) -> bool:
    for name, level in required.items():
        if skills.get(name, 0) < level:
            return False
    return True
