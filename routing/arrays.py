"""The agents of an :class:`~routing.index.AgentIndex` as numpy arrays, one row ("slot") per
agent id, kept beside the index's sets: eligibility and the near-miss search of a request
become a few vector operations over every agent instead of set work and Python loops over the
eligible ones (``routing.vector`` ranks and explains with them).

Per slot: each skill's level (one int8 column per skill name, 0 when not held), whether the
agent is ready on each channel (the index's ``ready`` sets), its weighted units ``used`` and
``total`` and their :func:`load_key` (the first tie-break), its ``last_assigned`` (the
index's :meth:`~routing.index.AgentIndex.assigned` sets it), and whether the slot holds a
registered agent. A slot belongs to its id for good (ticketgate never deletes agents, and a
caller that replaces an agent's row removes and adds the same id), so the id order of the
slots (:meth:`first_by_id`) is sorted again only when a new id appears. The index calls
:meth:`put_skills`, :meth:`clear_skills`, :meth:`sync` and :meth:`drop` on every change it
makes, so the arrays say what its sets say.
"""
from __future__ import annotations

import numpy as np

GROWTH = 2  # the rows grow by this factor when full


def load_key(used: float, total: float, bands: int):
    """The first tie-break after the match: the load ratio ``used / total`` (1 without a
    total), compared in ``bands`` steps when > 0."""
    ratio = used / total if total else 1.0
    return min(bands - 1, int(ratio * bands)) if bands else ratio


class AgentArrays:
    """Skill levels, readiness and load of every agent of one index, by slot; ``bands``: the
    policy's ``load_bands``, for :attr:`load` (each agent's :func:`load_key`)."""

    def __init__(self, bands: int = 0):
        self.bands = bands
        self.slot_of: dict[str, int] = {}  # every id ever registered -> its slot
        self.ids: list[str] = []  # slot -> id
        self.size = 0  # rows allocated
        self.live = np.zeros(0, bool)
        self.levels: dict[str, np.ndarray] = {}  # skill -> level by slot (int8)
        self.ready: dict[str, np.ndarray] = {}  # channel -> bool by slot
        self.used = np.zeros(0)
        self.total = np.zeros(0)
        self.last = np.zeros(0)  # last_assigned
        self.load = np.zeros(0)  # load_key(used, total, bands)
        self._rank: np.ndarray | None = None  # slot -> place of its id in sorted order
        self._order: np.ndarray | None = None  # place in sorted order -> slot

    def slot(self, agent_id: str) -> int:
        """The agent's slot, made for a new id."""
        slot = self.slot_of.get(agent_id)
        if slot is None:
            slot = self.slot_of[agent_id] = len(self.ids)
            self.ids.append(agent_id)
            self._rank = self._order = None
            if slot >= self.size:
                self._grow(max(64, self.size * GROWTH))
        return slot

    def _grow(self, size: int) -> None:
        def grown(array: np.ndarray) -> np.ndarray:
            bigger = np.zeros(size, array.dtype)
            bigger[:len(array)] = array
            return bigger
        self.live, self.used, self.total = grown(self.live), grown(self.used), grown(self.total)
        self.last, self.load = grown(self.last), grown(self.load)
        self.levels = {name: grown(column) for name, column in self.levels.items()}
        self.ready = {name: grown(column) for name, column in self.ready.items()}
        self.size = size

    def put_skills(self, agent_id: str, skills: dict[str, int]) -> None:
        slot = self.slot(agent_id)
        self.live[slot] = True
        for name, level in skills.items():
            column = self.levels.get(name)
            if column is None:
                column = self.levels[name] = np.zeros(self.size, np.int8)
            column[slot] = level

    def clear_skills(self, agent_id: str, skills: dict[str, int]) -> None:
        slot = self.slot_of[agent_id]
        for name in skills:
            self.levels[name][slot] = 0

    def sync(self, agent, ready: dict[str, bool]) -> None:
        """The agent's units, last assignment and readiness per channel, as the index just
        set them."""
        slot = self.slot_of[agent.id]
        self.used[slot], self.total[slot] = agent.used, agent.total
        self.last[slot] = agent.last_assigned
        self.load[slot] = load_key(agent.used, agent.total, self.bands)
        for channel, flag in ready.items():
            column = self.ready.get(channel)
            if column is None:
                column = self.ready[channel] = np.zeros(self.size, bool)
            column[slot] = flag

    def drop(self, agent_id: str) -> None:
        slot = self.slot_of.get(agent_id)
        if slot is None:  # its skills were refused: it never had a slot
            return
        self.live[slot] = False
        for column in self.ready.values():
            column[slot] = False

    def first_by_id(self, slots: np.ndarray, limit: int) -> list[str]:
        """The ids of the ``limit`` slots of ``slots`` that come first in id order, sorted."""
        if self._rank is None:
            order = np.array(sorted(range(len(self.ids)), key=self.ids.__getitem__), np.int64)
            self._rank = np.zeros(len(order), np.int64)
            self._rank[order] = np.arange(len(order))
            self._order = order
        ids = self.ids
        return [ids[slot] for slot in self._order[np.sort(self._rank[slots])[:limit]].tolist()]

    def holders(self, required: dict[str, int]) -> np.ndarray | None:
        """Mask of the agents holding every required skill at some level (the index's
        ``holders``); ``None`` when a skill has never been held."""
        mask = self.live.copy()
        for name in required:
            column = self.levels.get(name)
            if column is None:
                return None
            mask &= column.astype(bool)
        return mask

    def eligible(self, channel: str, required: dict[str, int], excluded) -> np.ndarray | None:
        """Mask of the agents ready on ``channel`` holding every required skill at its level
        (levels below 1 count as 1), minus ``excluded``: the index's ``candidates``."""
        ready = self.ready.get(channel)
        if ready is None:
            return None
        mask = ready.copy()
        scratch = np.empty(self.size, bool)
        for name, level in required.items():
            column = self.levels.get(name)
            if column is None:
                return None
            np.greater_equal(column, max(1, level), out=scratch)
            mask &= scratch
        for agent_id in excluded:
            slot = self.slot_of.get(agent_id)
            if slot is not None:
                mask[slot] = False
        return mask
