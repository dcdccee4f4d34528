"""The pending queue: waiting tickets bucketed so capacity can be matched to them fast.

A bucket holds the tickets of one (channel, effective requirement, base priority, excluded
agents). Order across the queue, best first: effective priority, then SLA due time, then age
(enqueue time), then ticket id. Effective priority = rank (low 0 .. urgent 3) + min(age,
bound) / aging step: it grows with waiting time up to a bound, so no ticket starves.

Within a bucket the tickets younger than the bound are ordered by age alone (their effective
priority only depends on it), so they sit in a heap by enqueue time; once older than the bound
they all share the capped priority and move to a second heap ordered by (SLA due, age). A
bucket's best ticket is the top of the capped heap if any, else the top of the young heap.
Buckets are indexed by (channel, alphabetically first required skill) so an agent with spare
capacity only looks at buckets it might serve. Removal is lazy (entries carry a sequence number).
"""
from __future__ import annotations

import heapq
import math
from collections import defaultdict

from routing.model import PRIORITY_RANK, Policy, Request

INF = math.inf


class Bucket:
    __slots__ = ("key", "channel", "required", "rank", "excluded", "young", "capped")

    def __init__(self, key: tuple):
        self.key = key
        self.channel, required, self.rank, self.excluded = key
        self.required = dict(required)
        self.young: list[tuple] = []  # (enqueued, sla_due, ticket id, seq)
        self.capped: list[tuple] = []  # (sla_due, enqueued, ticket id, seq)


class PendingQueue:
    """Waiting tickets of one router."""

    def __init__(self, policy: Policy):
        self.step = policy.aging_step_s
        self.bound_s = policy.aging_bound * policy.aging_step_s
        self.buckets: dict[tuple, Bucket] = {}
        self.by_head: dict[tuple[str, str], set[tuple]] = defaultdict(set)
        self.live: dict[str, tuple[tuple, int]] = {}  # ticket id -> (bucket key, seq)
        self.seq = 0

    def __len__(self) -> int:
        return len(self.live)

    def __contains__(self, ticket_id: str) -> bool:
        return ticket_id in self.live

    def push(self, request: Request, required: dict[str, int]) -> None:
        self.remove(request.id)
        key = (request.channel, tuple(sorted(required.items())), PRIORITY_RANK[request.priority],
               frozenset(request.excluded))
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket(key)
            head = min(required) if required else ""
            self.by_head[(request.channel, head)].add(key)
        self.seq += 1
        sla = request.sla_due if request.sla_due is not None else INF
        heapq.heappush(bucket.young, (request.enqueued, sla, request.id, self.seq))
        self.live[request.id] = (key, self.seq)

    def remove(self, ticket_id: str) -> bool:
        return self.live.pop(ticket_id, None) is not None

    def _top(self, bucket: Bucket, now: float) -> tuple | None:
        """(order key, ticket id) of the bucket's best live ticket, dropping stale entries."""
        live = self.live
        young, capped = bucket.young, bucket.capped
        limit = now - self.bound_s
        while young:
            enqueued, sla, ticket_id, seq = young[0]
            if live.get(ticket_id) != (bucket.key, seq):
                heapq.heappop(young)
            elif enqueued <= limit:
                heapq.heappop(young)
                heapq.heappush(capped, (sla, enqueued, ticket_id, seq))
            else:
                break
        while capped and live.get(capped[0][2]) != (bucket.key, capped[0][3]):
            heapq.heappop(capped)
        if capped:
            sla, enqueued, ticket_id, _ = capped[0]
            boost = self.bound_s / self.step
        elif young:
            enqueued, sla, ticket_id, _ = young[0]
            boost = max(0.0, now - enqueued) / self.step
        else:
            return None
        return (-(bucket.rank + boost), sla, enqueued, ticket_id), ticket_id

    def _drop_bucket(self, bucket: Bucket) -> None:
        del self.buckets[bucket.key]
        head = min(bucket.required) if bucket.required else ""
        keys = self.by_head[(bucket.channel, head)]
        keys.discard(bucket.key)
        if not keys:
            del self.by_head[(bucket.channel, head)]

    def best_for(self, agent_id: str, skills: dict[str, int], channels, now: float) -> str | None:
        """The best waiting ticket ``agent_id`` may take on any of ``channels``, or ``None``."""
        best = None
        for channel in channels:
            for head in ("", *skills):
                keys = self.by_head.get((channel, head))
                if not keys:
                    continue
                for key in list(keys):
                    bucket = self.buckets[key]
                    if agent_id in bucket.excluded or not _serves(skills, bucket.required):
                        continue
                    top = self._top(bucket, now)
                    if top is None:
                        self._drop_bucket(bucket)
                    elif best is None or top[0] < best[0]:
                        best = top
        return best[1] if best else None

    def ordered(self, now: float, limit: int | None = None) -> list[str]:
        """Live ticket ids, best first (a snapshot: for reports and tests, not the hot path)."""
        keys = []
        for ticket_id, (key, seq) in self.live.items():
            bucket = self.buckets[key]
            young = [e for e in bucket.young if e[3] == seq]
            if young:
                enqueued, sla = young[0][0], young[0][1]
            else:
                sla, enqueued = next(e[:2] for e in bucket.capped if e[3] == seq)
            boost = min(max(0.0, now - enqueued), self.bound_s) / self.step
            keys.append((-(bucket.rank + boost), sla, enqueued, ticket_id))
        keys.sort()
        return [k[3] for k in (keys if limit is None else keys[:limit])]


def _serves(skills: dict[str, int], required: dict[str, int]) -> bool:
    for name, level in required.items():
        if skills.get(name, 0) < level:
            return False
    return True
