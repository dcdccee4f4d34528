"""Eligibility, ranking and near misses of one request over the index's arrays
(``routing.arrays``): the same answers as ``AgentIndex.candidates``,
``routing.scoring.best_candidate`` and ``routing.scoring.near_misses``, computed with a few
vector operations over every agent instead of Python loops over the eligible ones, which is
what a decision costs with thousands of agents. tests/routing/test_vector.py checks that both
give the same decisions and explanations on generated agents and tickets.
"""
from __future__ import annotations

import numpy as np

from routing.arrays import AgentArrays
from routing.index import AgentIndex
from routing.model import Request
from routing.scoring import add_until, best_candidate, match_terms, with_reasons

_NONE = np.zeros(0, np.int64)
FEW = 48  # eligible agents ranked by the reference's loop: fewer than the vectors' overhead
HUGE = 2 ** 40  # a match term this large could overflow int64 sums: the reference ranks


class Eligible:
    """The eligible agents of a request (for the engine, like a set of ids): a mask by slot
    (``None``: nobody) and the slots in ascending order."""
    __slots__ = ("arrays", "mask", "slots")

    def __init__(self, arrays: AgentArrays, mask: np.ndarray | None):
        self.arrays, self.mask = arrays, mask
        self.slots = _NONE if mask is None else np.flatnonzero(mask)

    def __len__(self) -> int:
        return len(self.slots)

    def discard(self, agent_id: str) -> None:
        slot = self.arrays.slot_of[agent_id]
        self.mask[slot] = False
        self.slots = self.slots[self.slots != slot]

    def ids(self) -> set[str]:
        ids = self.arrays.ids
        return {ids[slot] for slot in self.slots.tolist()}


def eligible(index: AgentIndex, channel: str, required: dict, excluded) -> Eligible:
    return Eligible(index.arrays, index.arrays.eligible(channel, required, excluded))


def best(index: AgentIndex, request: Request, required: dict, found: Eligible,
         surplus_weight: float, bands: int = 0) -> str | None:
    """``best_candidate`` over ``found``: the previous agent if eligible, else the highest
    match, then the lowest load ratio (banded), the longest idle, the id."""
    slots, arrays = found.slots, index.arrays
    if not len(slots):
        return None
    previous = request.previous_agent
    if previous is not None:
        slot = arrays.slot_of.get(previous)
        if slot is not None and found.mask[slot]:
            return previous
    if len(slots) == 1:
        return arrays.ids[int(slots[0])]
    pref, surplus, req = match_terms(request.preferred, required, surplus_weight)
    if len(slots) < FEW or abs(surplus) >= HUGE or any(abs(w) >= HUGE for _, w in pref):
        return best_candidate(index, request, required, found.ids(), surplus_weight, bands)
    leaders = slots
    if pref or surplus:
        match = np.zeros(len(slots), np.int64)
        for name, weight in pref:
            column = arrays.levels.get(name)
            if column is not None:
                match += column[slots] * np.int64(weight)
        if surplus:
            surplus = np.int64(surplus)
            for name, level in req:
                match += arrays.levels[name][slots] * surplus
                match -= surplus * level
        top = match.max()  # best_candidate's loop starts from -1: below it nobody leads
        leaders = slots[match == top] if top >= -1 else _NONE
    return _tie_break(index, leaders, bands)


def _tie_break(index: AgentIndex, leaders: np.ndarray, bands: int) -> str:
    """The lowest ``tie_key`` (load ratio or its band, last assignment, id) of ``leaders``."""
    arrays = index.arrays
    if len(leaders) > 1:
        if bands == arrays.bands:
            load = arrays.load[leaders]
        else:
            total, used = arrays.total[leaders], arrays.used[leaders]
            load = np.divide(used, total, out=np.ones(len(leaders)), where=total != 0)
            if bands:
                load = np.minimum(bands - 1, np.trunc(load * bands))
        leaders = leaders[load == load.min()]
    if len(leaders) > 1:
        last = arrays.last[leaders]
        leaders = leaders[last == last.min()]
    ids = arrays.ids
    named = [ids[slot] for slot in leaders.tolist()]
    if not named:
        raise ValueError("min() arg is an empty sequence")
    return min(named)


def near_misses(index: AgentIndex, request: Request, required: dict, found: Eligible,
                limit: int, scan: int = 2000) -> list[dict]:
    """``routing.scoring.near_misses`` with the eligible agents of ``found``."""
    if limit <= 0:
        return []
    arrays = index.arrays
    if required:
        holders = arrays.holders(required)
        if holders is None:
            holders = np.zeros(arrays.size, bool)
        pool = np.flatnonzero(holders & ~found.mask) if found.mask is not None \
            else np.flatnonzero(holders)
        chosen = arrays.first_by_id(pool, limit)
        slot_of = arrays.slot_of
        for roster in index.rosters_of(required):
            add_until(chosen, roster[:scan], lambda agent_id: holders[slot_of[agent_id]], limit)
    else:
        chosen, mask, slot_of = [], found.mask, arrays.slot_of
        add_until(chosen, index.roster(required)[:scan],
                  lambda agent_id: mask is not None and mask[slot_of[agent_id]], limit)
    return with_reasons(index, request, required, chosen)

