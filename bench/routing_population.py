"""The workspace ``bench.routing_store`` routes in, generated and bulk-inserted: agents with
language and product skills, their open work and assignments, a full ``vip`` department, a
waiting backlog and new tickets (``bench.routing_engine_parts`` draws the same kinds of agents
in memory)."""
from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from sqlalchemy import insert, text

from config.workspaces import parse_config
from routing.index import EPSILON
from store.db import make_engine
from store.migrate import upgrade
from store.models import Agent, Assignment, Customer, Ticket, Workspace, utcnow

LANGS = [f"lang:{code}" for code in ("en", "cs", "de", "fr", "es")]
PRODUCTS = [f"p{n:02d}" for n in range(45)]
CAPACITY = {"chat": 2, "telegram": 2, "email": 6, "form": 4}
TOTAL_UNITS = 12.0
PRIORITY_MIX = ("low", "medium", "medium", "high", "urgent")  # drawn from: medium twice as often
CHUNK = 5_000  # rows per bulk INSERT


def workspace_config():
    hours = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    office = {"timezone": "Europe/Prague", "hours": hours}  # always open, evaluated all the same
    return parse_config({"workspaces": [{"slug": "bench", "routing": {
        "policy": {"offer_channels": []}, "calendars": {"office": office}}}]}).workspace("bench")


def fresh_store(url: str | None, tmp: str) -> str:
    if url:  # PostgreSQL: the benchmark owns the database
        with make_engine(url).begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(url := url or f"sqlite:///{tmp}/bench.db")  # SQLite: WAL, as store.db makes it
    return url


def bulk(session, model, rows: list[dict]) -> list[int]:
    """Multi-row INSERTs of ``CHUNK`` rows; returns the new ids in the order of ``rows``."""
    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    return [i for start in range(0, len(rows), CHUNK)
            for i in session.scalars(statement, rows[start:start + CHUNK])]


class Population:
    """Generates and bulk-inserts the workspace: agents, their open work, backlog, new tickets."""

    def __init__(self, session, seed: int, customers: int):
        self.session, self.rng, self.now, self.number = session, random.Random(seed), utcnow(), 0
        self.weight = workspace_config().routing.make_policy().weight
        self.ws_id = bulk(session, Workspace, [{"slug": "bench", "last_ticket_number": 0}])[0]
        self.customers = bulk(session, Customer, [{"workspace_id": self.ws_id, "name": f"c{n}"}
                                                  for n in range(customers)])

    def agents(self, count: int) -> list[str]:
        """Insert the agents and the tickets they hold; returns the keys of online vip agents."""
        rows = [self.agent_row(n, n < count // 5) for n in range(count)]
        held = [(agent_id, row["key"], channel) for agent_id, row
                in zip(bulk(self.session, Agent, rows), rows) for channel in row.pop("held")]
        tickets = [self.ticket_row(False, "assigned", channel=c, assignee=key, status="open")
                   for _, key, c in held]
        ticket_ids = bulk(self.session, Ticket, tickets)
        bulk(self.session, Assignment, [
            {"workspace_id": self.ws_id, "ticket_id": t, "customer_id": row["customer_id"],
             "agent_id": a, "channel": c, "units": self.weight(c), "started_at": self.now,
             "accepted_at": self.now}
            for t, row, (a, _, c) in zip(ticket_ids, tickets, held)])
        return [r["key"] for r in rows[:count // 5] if r["status"] == "online"]

    def agent_row(self, n: int, vip: bool) -> dict:
        """A random agent holding work: full if vip, else up to 0-60 % of its units."""
        rng, weight, held = self.rng, self.weight, []
        skills = {lang: rng.randint(3, 5) for lang in rng.sample(LANGS, rng.choice((1, 2)))}
        skills.update({p: rng.randint(1, 5) for p in rng.sample(PRODUCTS, rng.randint(4, 6))})
        units = TOTAL_UNITS if vip else rng.uniform(0, 0.6) * TOTAL_UNITS
        while room := [c for c, cap in CAPACITY.items() if held.count(c) < cap
                       and sum(map(weight, held)) + weight(c) <= units + EPSILON]:
            held.append(rng.choice(room))
        return {"workspace_id": self.ws_id, "key": f"a{n:05d}", "name": f"Agent {n}",
                "skills": skills, "departments": ["vip"] if vip else [],
                "capacity": dict(CAPACITY), "total": TOTAL_UNITS, "calendar": "office" * (n % 2),
                "status": "online" if rng.random() < 0.9 else rng.choice(("away", "offline")),
                "load": dict(Counter(held)), "used": sum(map(weight, held)), "held": held,
                "last_assigned_at": self.now - timedelta(seconds=rng.uniform(0, 7200))}

    def tickets(self, count: int, state: str, vip_only: bool = False) -> list[int]:
        return bulk(self.session, Ticket, [self.ticket_row(vip_only or n % 2 == 1, state)
                                           for n in range(count)])

    def ticket_row(self, vip: bool, state: str, **values) -> dict:
        """A ticket; a waiting one with a wait explanation of the usual size (about 1 KB)."""
        rng, self.number = self.rng, self.number + 1
        created = self.now - timedelta(seconds=rng.uniform(60, 4 * 3600))
        skills = {rng.choice(LANGS): 3, rng.choice(PRODUCTS): rng.randint(1, 3),
                  **({"dept:vip": 1} if vip else {})}
        due = created + timedelta(seconds=rng.choice((3600, 14400, 86400)))
        misses = [{"agent": f"a{k:05d}", "reasons": [{"code": "total_full", "used": 12,
                                                      "total": 12.0}] * 2} for k in range(5)]
        reason = {"decision": "wait", "trigger": "arrival", "step": 0, "requirement": skills,
                  "eligible": 0, "near_misses": misses} if state == "waiting" else {}
        return {"workspace_id": self.ws_id, "number": self.number, "subject": "Help",
                "channel": rng.choice(list(CAPACITY)), "status": "new", "routing_state": state,
                "priority": rng.choice(PRIORITY_MIX), "customer_id": rng.choice(self.customers),
                "skills": skills, "department": "vip" if vip else "", "routing_reason": reason,
                "preferred": {p: 1.0 for p in rng.sample(PRODUCTS, rng.randint(0, 2))},
                "sla": {"first_response_due": due.isoformat()}, "created_at": created,
                "queued_at": created if state == "waiting" else None, **values}
