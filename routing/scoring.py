"""Ranking of eligible agents and the explanation of a choice.

Order (best first): the customer's previous agent when eligible; then the highest skill match
(sum of preferred-skill weight x level / 5, plus ``surplus_weight`` per level above each required
minimum); then the lowest load ratio (weighted units used / total); then the longest idle
(earliest last assignment); then the agent id, so ties always break the same way.
"""
from __future__ import annotations

import heapq

from routing.arrays import load_key
from routing.index import AgentIndex
from routing.model import MAX_LEVEL, Agent, Request


SCALE = 1000  # matches are compared as integers: weights and surplus in thousandths


def match_terms(preferred: dict, required: dict, surplus_weight: float) -> tuple:
    """Integer weights of a request: ((skill, weight x 1000), ...), surplus x 1000 x 5."""
    pref = tuple((name, round(weight * SCALE)) for name, weight in preferred.items())
    return pref, round(surplus_weight * SCALE * MAX_LEVEL), tuple(required.items())


def match_of(skills: dict, terms: tuple) -> int:
    """Skill match x 5000: sum of preferred weight x level, plus surplus x levels above minimum."""
    pref, surplus, required = terms
    match = 0
    for name, weight in pref:
        level = skills.get(name)
        if level:
            match += weight * level
    if surplus:
        for name, level in required:
            match += surplus * (skills[name] - level)
    return match


def load_ratio(agent: Agent) -> float:
    return agent.used / agent.total if agent.total else 1.0


def tie_key(agent: Agent, bands: int = 0) -> tuple:
    """After the match: lowest load ratio (in ``bands`` steps when > 0), longest idle, id."""
    return (load_key(agent.used, agent.total, bands), agent.last_assigned, agent.id)


def best_candidate(index: AgentIndex, request: Request, required: dict, candidates: set,
                   surplus_weight: float, bands: int = 0) -> str | None:
    """The best agent id of ``candidates`` (``None`` when empty)."""
    if not candidates:
        return None
    previous = request.previous_agent
    if previous is not None and previous in candidates:
        return previous
    if len(candidates) == 1:
        return next(iter(candidates))
    terms = match_terms(request.preferred, required, surplus_weight)
    if terms[0] or terms[1]:
        skills_of = index.skills
        top = -1
        leaders: list[str] = []
        pref, surplus, req = terms
        for agent_id in candidates:
            skills = skills_of[agent_id]
            match = 0
            for name, weight in pref:
                level = skills.get(name)
                if level:
                    match += weight * level
            if surplus:
                for name, level in req:
                    match += surplus * (skills[name] - level)
            if match > top:
                top, leaders = match, [agent_id]
            elif match == top:
                leaders.append(agent_id)
    else:
        leaders = candidates
    agents = index.agents
    return min(leaders, key=lambda agent_id: tie_key(agents[agent_id], bands))


def components(index: AgentIndex, request: Request, required: dict, agent_id: str,
               surplus_weight: float, now: float) -> dict:
    """The score components of the chosen agent, for the explanation."""
    terms = match_terms(request.preferred, required, surplus_weight)
    agent = index.agents[agent_id]
    return {"agent": agent_id, "previous_agent": agent_id == request.previous_agent,
            "match": match_of(index.skills[agent_id], terms) / (SCALE * MAX_LEVEL),
            "load_ratio": round(load_ratio(agent), 6),
            "idle_s": (round(max(0.0, now - agent.last_assigned), 3)
                       if agent.last_assigned > float("-inf") else None)}


def near_misses(index: AgentIndex, request: Request, required: dict, eligible: set,
                limit: int, scan: int = 2000) -> list[dict]:
    """Up to ``limit`` ineligible agents closest to the requirement, each with its reasons.

    First, in id order, the agents holding every required skill at some level but failing a
    level, presence, capacity or exclusion check; then agents holding some required skills but
    missing others (holders of each required skill, rarest skill first, the first ``scan`` of
    each in id order).
    """
    if limit <= 0:
        return []
    if required:
        holders = index.holders(required)
        pool = holders - eligible
        chosen = sorted(pool)[:limit] if len(pool) <= 4 * limit else heapq.nsmallest(limit, pool)
        for roster in index.rosters_of(required):
            add_until(chosen, roster[:scan], holders.__contains__, limit)
    else:
        chosen = []
        add_until(chosen, index.roster(required)[:scan], eligible.__contains__, limit)
    return with_reasons(index, request, required, chosen)


def add_until(chosen: list[str], agent_ids, skip, limit: int) -> None:
    """Append to ``chosen``, in order, the ``agent_ids`` not yet in it for which ``skip`` is
    false, until it holds ``limit``."""
    for agent_id in agent_ids:
        if len(chosen) >= limit:
            return
        if not skip(agent_id) and agent_id not in chosen:
            chosen.append(agent_id)


def with_reasons(index: AgentIndex, request: Request, required: dict,
                 chosen: list[str]) -> list[dict]:
    """The near misses ``chosen``, each with why it is not eligible."""
    return [{"agent": agent_id,
             "reasons": index.reasons(agent_id, request.channel, required, request.excluded)}
            for agent_id in chosen]
