"""Indexes over agents that make eligibility a few set intersections.

``postings[(skill, level)]`` holds the agents with ``skill`` at ``level`` or above (levels 1-5,
departments as ``dept:<name>`` pseudo-skills); ``ready[channel]`` holds the agents that are online,
available and have spare capacity on that channel *and* in total for one more ticket of it. The
candidates for a request are the intersection of ``ready[channel]`` with the posting lists of its
required skills, smallest first, minus the request's excluded agents.
"""
from __future__ import annotations

import bisect
from collections import defaultdict

from routing.arrays import AgentArrays
from routing.model import MAX_LEVEL, Agent, Policy

EPSILON = 1e-9
_EMPTY: frozenset[str] = frozenset()


class AgentIndex:
    """Agents by id, by skill level and by channel readiness; kept current by :meth:`refresh`."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self.agents: dict[str, Agent] = {}
        self.skills: dict[str, dict[str, int]] = {}
        self.postings: dict[tuple[str, int], set[str]] = defaultdict(set)
        self.ready: dict[str, set[str]] = defaultdict(set)
        self.channels: set[str] = set(policy.channel_weights)
        self.rosters: dict[str, list[str]] = {}  # skill -> sorted ids of its holders
        self._all_sorted: list[str] | None = None
        self.arrays = AgentArrays(policy.load_bands)  # the same, as vectors (routing.vector)

    def __contains__(self, agent_id: str) -> bool:
        return agent_id in self.agents

    def __len__(self) -> int:
        return len(self.agents)

    def add(self, agent: Agent) -> None:
        if agent.id in self.agents:
            raise ValueError(f"agent {agent.id!r} is already registered")
        self.agents[agent.id] = agent
        agent.load = {channel: agent.load.get(channel, 0) for channel in agent.load}
        agent.used = sum(self.policy.weight(c) * n for c, n in agent.load.items())
        self._index_skills(agent)
        self.refresh(agent)

    def remove(self, agent_id: str) -> Agent:
        agent = self.agents.pop(agent_id)
        self._unindex_skills(agent_id)
        for members in self.ready.values():
            members.discard(agent_id)
        self.arrays.drop(agent_id)
        return agent

    def set_skills(self, agent: Agent, skills: dict[str, int], departments=None) -> None:
        self._unindex_skills(agent.id)
        agent.skills = dict(skills)
        if departments is not None:
            agent.departments = frozenset(departments)
        self._index_skills(agent)

    def _index_skills(self, agent: Agent) -> None:
        skills = agent.effective_skills()
        for name, level in skills.items():
            if not 1 <= level <= MAX_LEVEL:
                raise ValueError(f"agent {agent.id!r}: level of {name!r} must be 1-{MAX_LEVEL}")
            for at_least in range(1, level + 1):
                self.postings[(name, at_least)].add(agent.id)
            bisect.insort(self.rosters.setdefault(name, []), agent.id)
        self.skills[agent.id] = skills
        self.arrays.put_skills(agent.id, skills)
        self._all_sorted = None

    def _unindex_skills(self, agent_id: str) -> None:
        skills = self.skills.pop(agent_id, {})
        if agent_id in self.arrays.slot_of:
            self.arrays.clear_skills(agent_id, skills)
        for name, level in skills.items():
            for at_least in range(1, level + 1):
                self.postings[(name, at_least)].discard(agent_id)
            roster = self.rosters[name]
            del roster[bisect.bisect_left(roster, agent_id)]
        self._all_sorted = None

    def has_room(self, agent: Agent, channel: str) -> bool:
        """Spare capacity on ``channel`` and in total for one more ticket of it."""
        if agent.load.get(channel, 0) >= agent.capacity.get(channel, 0):
            return False
        return agent.used + self.policy.weight(channel) <= agent.total + EPSILON

    def refresh(self, agent: Agent) -> None:
        """Recompute the agent's membership of every channel's ready set."""
        self.channels.update(agent.capacity)
        present = agent.status == "online" and agent.available
        flags = {}
        for channel in self.channels:
            if present and self.has_room(agent, channel):
                self.ready[channel].add(agent.id)
                flags[channel] = True
            else:
                self.ready[channel].discard(agent.id)
                flags[channel] = False
        self.arrays.sync(agent, flags)

    def take(self, agent: Agent, channel: str) -> None:
        if not self.has_room(agent, channel):
            raise RuntimeError(f"agent {agent.id!r} has no room on {channel!r}")
        agent.load[channel] = agent.load.get(channel, 0) + 1
        agent.used += self.policy.weight(channel)
        self.refresh(agent)

    def assigned(self, agent: Agent, now: float) -> None:
        """The agent was given a ticket at ``now`` (its longest-idle tie-break)."""
        agent.last_assigned = now
        self.arrays.last[self.arrays.slot_of[agent.id]] = now

    def give_back(self, agent: Agent, channel: str) -> None:
        if agent.load.get(channel, 0) <= 0:
            raise RuntimeError(f"agent {agent.id!r} holds no ticket on {channel!r}")
        agent.load[channel] -= 1
        agent.used = max(0.0, agent.used - self.policy.weight(channel))
        self.refresh(agent)

    def candidates(self, channel: str, required: dict[str, int], excluded) -> set[str]:
        """Eligible agent ids: ready on the channel, every required skill at its level."""
        sets = [self.ready.get(channel, _EMPTY)]
        postings = self.postings
        for name, level in required.items():
            posting = postings.get((name, max(1, level)))
            if not posting:
                return set()
            sets.append(posting)
        sets.sort(key=len)
        found = sets[0].intersection(*sets[1:]) if len(sets) > 1 else set(sets[0])
        if excluded:
            found.difference_update(excluded)
        return found

    def qualified(self, required: dict[str, int]) -> set[str]:
        """Agents holding every required skill at its level, whatever their presence or load."""
        if not required:
            return set(self.agents)
        sets = sorted((self.postings.get((name, max(1, level)), _EMPTY)
                       for name, level in required.items()), key=len)
        return sets[0].intersection(*sets[1:]) if len(sets) > 1 else set(sets[0])

    def holders(self, required: dict[str, int]) -> set[str]:
        """Agents holding every required skill at some level."""
        return self.qualified({name: 1 for name in required})

    def rosters_of(self, required: dict[str, int]) -> list[list[str]]:
        """Sorted holder lists of each required skill, the rarest skill first."""
        names = sorted(required, key=lambda n: (len(self.rosters.get(n, ())), n))
        return [self.rosters.get(name, []) for name in names]

    def roster(self, required: dict[str, int]) -> list[str]:
        """Sorted ids of the agents holding the rarest required skill (all agents if none):
        where near-misses are looked for."""
        if not required:
            if self._all_sorted is None:
                self._all_sorted = sorted(self.agents)
            return self._all_sorted
        name = min(required, key=lambda n: (len(self.postings.get((n, 1), _EMPTY)), n))
        return self.rosters.get(name, [])

    def reasons(self, agent_id: str, channel: str, required: dict[str, int], excluded) -> list:
        """Why ``agent_id`` is not eligible, as machine-readable reason objects."""
        agent = self.agents[agent_id]
        skills = self.skills[agent_id]
        out: list[dict] = []
        if agent_id in excluded:
            out.append({"code": "excluded"})
        if agent.status != "online":
            out.append({"code": agent.status})
        if not agent.available:
            out.append({"code": "outside_hours"})
        for name, level in sorted(required.items()):
            have = skills.get(name, 0)
            if have == 0:
                out.append({"code": "missing_skill", "skill": name})
            elif have < level:
                out.append({"code": "level_low", "skill": name, "level": have, "required": level})
        capacity = agent.capacity.get(channel, 0)
        if capacity == 0:
            out.append({"code": "no_channel", "channel": channel})
        elif agent.load.get(channel, 0) >= capacity:
            out.append({"code": "channel_full", "channel": channel, "load": agent.load[channel],
                        "capacity": capacity})
        if capacity and agent.used + self.policy.weight(channel) > agent.total + EPSILON:
            out.append({"code": "total_full", "used": agent.used, "total": agent.total})
        return out
