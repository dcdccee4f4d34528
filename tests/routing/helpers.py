"""Small builders shared by the routing tests."""
from __future__ import annotations

from routing.engine import Router
from routing.model import Agent, Policy, Request

CAPACITY = {"email": 3, "form": 3, "chat": 2, "telegram": 2}


def agent(agent_id: str, skills: dict | None = None, status: str = "online", total: float = 10,
          capacity: dict | None = None, **extra) -> Agent:
    return Agent(agent_id, dict(skills or {}), dict(capacity or CAPACITY), total, status,
                 **extra)


def request(ticket_id: str, channel: str = "email", required: dict | None = None,
            **extra) -> Request:
    return Request(ticket_id, channel, dict(required or {}), **extra)


def router(*agents: Agent, claim=None, **policy) -> Router:
    return Router(Policy(**policy), list(agents), claim=claim)


def codes(decision, agent_id: str) -> list[str]:
    """Reason codes of one near-miss agent in a decision's explanation."""
    for miss in decision.explanation["near_misses"]:
        if miss["agent"] == agent_id:
            return [reason["code"] for reason in miss["reasons"]]
    raise AssertionError(f"{agent_id} is not among the near misses")
