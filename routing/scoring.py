"""Ranking of eligible agents and the explanation of a choice.

Order (best first): the customer's previous agent when eligible; then the highest skill match
(sum of preferred-skill weight x level / 5, plus ``surplus_weight`` per level above each required
minimum); then the lowest load ratio (weighted units used / total); then the longest idle
(earliest last assignment); then the agent id, so ties always break the same way.
"""
from __future__ import annotations

import heapq

from routing.index import AgentIndex
from routing.model import MAX_LEVEL, Request


def rank_key(index: AgentIndex, agent_id: str, preferred: dict, required: dict,
             surplus_weight: float) -> tuple:
    """Sort key of one candidate: smaller is better."""
    skills = index.skills[agent_id]
    agent = index.agents[agent_id]
    return (-match_of(skills, preferred, required, surplus_weight),
            agent.used / agent.total if agent.total else 1.0, agent.last_assigned, agent_id)


def match_of(skills: dict, preferred: dict, required: dict, surplus_weight: float) -> float:
    match = 0.0
    for name, weight in preferred.items():
        level = skills.get(name)
        if level:
            match += weight * level / MAX_LEVEL
    if surplus_weight:
        for name, level in required.items():
            match += surplus_weight * (skills[name] - level)
    return round(match, 9)


def best_candidate(index: AgentIndex, request: Request, required: dict, candidates: set,
                   surplus_weight: float) -> str | None:
    """The best agent id of ``candidates`` (``None`` when empty)."""
    if not candidates:
        return None
    previous = request.previous_agent
    if previous is not None and previous in candidates:
        return previous
    if len(candidates) == 1:
        return next(iter(candidates))
    preferred = request.preferred
    skills_of = index.skills
    agents = index.agents
    best_key = None
    best = None
    for agent_id in candidates:
        skills = skills_of[agent_id]
        agent = agents[agent_id]
        match = 0.0
        for name, weight in preferred.items():
            level = skills.get(name)
            if level:
                match += weight * level / MAX_LEVEL
        if surplus_weight:
            for name, level in required.items():
                match += surplus_weight * (skills[name] - level)
        key = (-round(match, 9), agent.used / agent.total if agent.total else 1.0,
               agent.last_assigned, agent_id)
        if best_key is None or key < best_key:
            best_key, best = key, agent_id
    return best


def components(index: AgentIndex, request: Request, required: dict, agent_id: str,
               surplus_weight: float, now: float) -> dict:
    """The score components of the chosen agent, for the explanation."""
    key = rank_key(index, agent_id, request.preferred, required, surplus_weight)
    agent = index.agents[agent_id]
    return {"agent": agent_id, "previous_agent": agent_id == request.previous_agent,
            "match": -key[0], "load_ratio": round(key[1], 6),
            "idle_s": round(max(0.0, now - agent.last_assigned), 3)}


def near_misses(index: AgentIndex, request: Request, required: dict, eligible: set,
                limit: int) -> list[dict]:
    """Up to ``limit`` ineligible agents closest to the requirement, each with its reasons.

    First agents holding every required skill (at any level) but failing a level, presence,
    capacity or exclusion check; then agents holding the rarest required skill but missing others.
    """
    if limit <= 0:
        return []
    pool = index.holders(required)
    pool.difference_update(eligible)
    chosen = heapq.nsmallest(limit, pool)
    if len(chosen) < limit:
        more = index.partial_holders(required)
        more.difference_update(eligible)
        more.difference_update(chosen)
        chosen += heapq.nsmallest(limit - len(chosen), more)
    return [{"agent": agent_id,
             "reasons": index.reasons(agent_id, request.channel, required, request.excluded)}
            for agent_id in chosen]
