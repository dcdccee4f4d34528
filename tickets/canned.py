"""Canned responses: ready answers with placeholders, rendered for one ticket without running
any template code.

A template is text with four placeholders, ``{customer.name}``, ``{ticket.number}``,
``{ticket.subject}`` and ``{agent.name}``; ``{{`` and ``}}`` stand for a literal brace. Every
other brace is an error: ``{anything else}`` is an unknown placeholder (named in the error), a
lone ``{`` or ``}`` an unmatched brace. The scanner below is the whole language: no attribute
lookup, no indexing, no formatting (never ``str.format`` or Jinja on user text), one pass, so a
value that itself looks like a placeholder (a subject ``{agent.name}``) is printed as it is.

Missing values render as empty text: a ticket without a customer or whose customer has no name
(``customer.name``), a reply without ``author`` (``agent.name``). ``agent.name`` is the name of
the workspace's agent whose id is the reply's ``author`` (the store's agent, else the workspace
file's not yet seeded into the store); an author that is no agent id (or an agent without a
name) is printed as the author text itself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config.routing import Routing
from store.models import Agent, CannedResponse, Customer, Ticket

PLACEHOLDERS = ("customer.name", "ticket.number", "ticket.subject", "agent.name")
MAX_NAMED = 10       # unknown placeholders named in one error
MAX_NAME_SHOWN = 40  # characters of an unknown placeholder repeated in an error
# One token: an escaped brace, a placeholder (no brace inside), a run of text, a lone brace.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[^{}]+|[{}]")
# The same language as one regular expression, for the OpenAPI document (NUL refused too).
PATTERN = ("^(?:[^{}\\x00]|\\{\\{|\\}\\}|\\{(?:"
           + "|".join(re.escape(p) for p in PLACEHOLDERS) + ")\\})*$")
RULE = ("placeholders are " + ", ".join("{%s}" % p for p in PLACEHOLDERS)
        + "; write {{ and }} for a literal brace")


class TemplateError(ValueError):
    """The template uses unknown placeholders or an unmatched brace (message says which)."""


def check(template: str) -> None:
    """Raise ``TemplateError`` naming what is wrong with ``template``; None when it is fine."""
    unknown: list[str] = []
    unmatched = None
    for match in _TOKEN.finditer(template):
        token, name = match.group(), match.group(1)
        if name is not None:
            if name not in PLACEHOLDERS and token not in unknown:
                unknown.append(token)
        elif token in ("{", "}") and unmatched is None:
            unmatched = f"unmatched {token!r} at character {match.start()}"
    if unknown:
        shown = ", ".join(name[:MAX_NAME_SHOWN] for name in unknown[:MAX_NAMED])
        more = f" and {len(unknown) - MAX_NAMED} more" if len(unknown) > MAX_NAMED else ""
        raise TemplateError(f"unknown placeholders {shown}{more}; {RULE}")
    if unmatched:
        raise TemplateError(f"{unmatched}; {RULE}")


def render(template: str, values: dict[str, str], html: bool = False) -> str:
    """``template`` with its placeholders replaced by ``values`` (missing: empty), escaped for
    HTML when ``html``; ``TemplateError`` when it is no valid template."""
    check(template)
    parts = []
    for match in _TOKEN.finditer(template):
        token, name = match.group(), match.group(1)
        if name is not None:
            value = values.get(name, "")
            parts.append(escape(value) if html else value)
        else:
            parts.append(token[0] if token in ("{{", "}}") else token)
    return "".join(parts)


@dataclass(frozen=True)
class Rendered:
    canned_id: int
    text: str
    html: str


def find(session: Session, workspace_id: int, canned_id: int) -> CannedResponse | None:
    """The workspace's canned response ``canned_id`` (another workspace's: None)."""
    return session.scalar(select(CannedResponse).where(CannedResponse.workspace_id == workspace_id,
                                                       CannedResponse.id == canned_id))


def render_for(session: Session, canned: CannedResponse, ticket: Ticket, author: str,
               seeds: Routing | None = None) -> Rendered:
    """The canned response rendered for ``ticket`` as answered by ``author`` (``seeds``: the
    workspace file's routing block, whose agents are not in the store until first seeded)."""
    values = values_for(session, ticket, author, seeds)
    html = render(canned.html, values, html=True) if canned.html else ""
    return Rendered(canned.id, render(canned.text, values), html)


def values_for(session: Session, ticket: Ticket, author: str,
               seeds: Routing | None = None) -> dict[str, str]:
    customer = session.get(Customer, ticket.customer_id) if ticket.customer_id else None
    return {"customer.name": customer.name if customer is not None else "",
            "ticket.number": str(ticket.number), "ticket.subject": ticket.subject or "",
            "agent.name": agent_name(session, ticket.workspace_id, author, seeds)}


def agent_name(session: Session, workspace_id: int, author: str,
               seeds: Routing | None = None) -> str:
    """The name of agent ``author``: the store's row, else the workspace file's seed (not yet
    in the store), else ``author`` itself."""
    if not author:
        return ""
    stored = session.execute(select(Agent.name).where(Agent.workspace_id == workspace_id,
                                                      Agent.key == author)).first()
    if stored is not None:
        return stored[0] or author
    seed = next((a for a in (seeds.agents if seeds else ()) if a.id == author), None)
    return (seed.name if seed is not None else "") or author


def count_use(session: Session, workspace_id: int, canned_id: int) -> None:
    """One more use, in the caller's transaction (an UPDATE that adds, so concurrent replies
    never lose a count)."""
    session.execute(update(CannedResponse)
                    .where(CannedResponse.id == canned_id,
                           CannedResponse.workspace_id == workspace_id)
                    .values(uses=CannedResponse.uses + 1))
