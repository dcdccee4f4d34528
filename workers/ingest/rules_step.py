"""The pipeline's rules step (docs/routing.md; ... lifecycle -> rules -> route -> store).

A new ticket gets what the workspace's rules and priority raisers say (required and preferred
skills, priority, tags, department, status, ladder, SLA policy) plus its detected language, and
is marked for routing (``routing_state`` "new"; ``tickets.assign`` routes it after the commit).
A later customer message can only raise the priority (keywords, VIP), and re-routes a ticket
that was finished and is open again. Every customer message moves the SLA clock.
Automatic mail and spam never touch any of it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from store import repo
from store.models import FINISHED, Ticket, utcnow
from routing import language
from routing.rules import Outcome, RuleInput, classify, language_skill, raise_priority
from tickets import route_store, sla_clock

NOT_ROUTED = ("spam", "deleted")
NEW_PRIORITY = Ticket.__table__.c.priority.default.arg  # a new ticket's, before the rules


def apply_rules(ctx) -> None:
    routing, ticket = ctx.config.routing, ctx.ticket
    if ctx.automatic or ticket.status in NOT_ROUTED or not (routing.enabled or routing.sla):
        return
    if ctx.created and _early_fits(ctx):
        _apply_early(ctx, ctx.early)
        return
    now = utcnow()
    item = rule_input(ctx, now)
    if ctx.created:
        _classify_new(ctx, item)
    else:
        _raise(ctx, item)
        if ticket.status not in FINISHED:
            ticket.resolved_at = ticket.resolved_by = None  # reopened by this message
        if (routing.enabled and ticket.routing_state in ("", "done")
                and ticket.status in ("new", "open")):
            ticket.routing_state = "new"
    if ticket.status not in NOT_ROUTED:
        sla_clock.customer_wrote(ticket, routing, now)


def likely_new(event) -> bool:
    """Whether the message will likely open a ticket: it names no conversation."""
    hints = event.thread
    return not (hints.in_reply_to or hints.references or hints.reply_token or hints.body_marker
                or hints.subject_number is not None or hints.conversation_id)


def early_language(event, config) -> str | None:
    """The language of a message that will likely open a ticket (it names no conversation),
    detected before the batch's store transaction so that this CPU work is not done under its
    lock; None when it is left to the rules step (a reply keeps its ticket's language)."""
    if not config.routing.language.detect or not likely_new(event):
        return None
    return _detect(event, config)


@dataclass(frozen=True)
class EarlyRules:
    """What the rules step decides for a message that will likely open a ticket, decided
    before the batch's store transaction (``early_rules``): the rules' outcome and the SLA
    clock's due times, as of ``at``. The rules step takes them when the ticket is indeed new
    and nothing the store knows changes them (``_early_fits``), else decides under the lock."""
    at: datetime
    language: str
    priority: str  # the new ticket's priority the rules started from
    outcome: Outcome
    sla: dict
    sla_breached: bool | None
    sla_check_at: datetime | None


def early_rules(event, config, language: str | None) -> EarlyRules | None:
    """The rules step of a likely new ticket, done in the batch's prepare phase (so that its
    CPU time is not spent under the store's lock), for a customer without tags, as of now (the
    new ticket's creation time if it is taken). None for a likely reply, or when nothing is
    routed and no SLA kept, or when the rules change the ticket's status (done under the lock,
    with its audit entry)."""
    routing = config.routing
    if not (routing.enabled or routing.sla) or not likely_new(event):
        return None
    at = utcnow()
    lang = event.language or (language or "" if routing.language.detect else "")
    item = RuleInput(channel=event.channel, recipients=_recipients(event),
                     sender=event.sender.address.lower(), subject=event.subject,
                     text=event.text, language=lang, customer_tags=frozenset(), at=at)
    outcome = classify(routing.compiled_rules, routing.priority, item, NEW_PRIORITY)
    if outcome.status and outcome.status != "new":
        return None
    clock = SimpleNamespace(created_at=at, first_response_at=None, last_customer_at=at,
                            last_agent_at=None, paused_s=0.0, paused_since=None,
                            resolved_at=None, sla_policy=outcome.sla or "",
                            priority=outcome.priority, sla={})
    sla_clock.refresh(clock, routing, at)
    return EarlyRules(at, lang, NEW_PRIORITY, outcome, clock.sla, clock.sla_breached,
                      clock.sla_check_at)


def _early_fits(ctx) -> bool:
    """Whether the early decision holds for the new ticket: opened as ``new`` with the
    default priority and no tags, in the language it was decided for, for a customer without
    tags (the rules read nothing else that the store knows)."""
    early, ticket = ctx.early, ctx.ticket
    if early is None or ticket.status != "new" or ticket.priority != early.priority \
            or ticket.tags:
        return False
    _resolve_language(ctx)
    return (ticket.language or "") == early.language \
        and not route_store.customer_tags(ctx.session, ticket)


def _apply_early(ctx, early: EarlyRules) -> None:
    """The early decision on the new ticket: created when the worker first saw the message
    (the SLA clock's start), the rules' outcome, the clock's due times."""
    ticket = ctx.ticket
    ticket.created_at = ticket.last_customer_at = early.at
    _apply_outcome(ctx, early.outcome)
    ticket.sla = {key: list(value) if isinstance(value, list) else value  # its own lists
                  for key, value in early.sla.items()}
    ticket.sla_breached, ticket.sla_check_at = early.sla_breached, early.sla_check_at


def _detect(event, config) -> str:
    return language.detect(f"{event.subject}\n{event.text}", config.routing.language.candidates)


def _resolve_language(ctx) -> None:
    """The ticket's language, detected now if it has none (or taken from the early one)."""
    ticket = ctx.ticket
    if not ticket.language and ctx.config.routing.language.detect:
        ticket.language = ctx.language if ctx.language is not None else \
            _detect(ctx.event, ctx.config)


def _recipients(event) -> tuple[str, ...]:
    return tuple(a.address.lower() for a in (*event.to, *event.cc))


def rule_input(ctx, now) -> RuleInput:
    event, ticket = ctx.event, ctx.ticket
    _resolve_language(ctx)
    tags = route_store.customer_tags(ctx.session, ticket)
    return RuleInput(channel=event.channel, recipients=_recipients(event),
                     sender=event.sender.address.lower(), subject=event.subject,
                     text=event.text, language=ticket.language or "", customer_tags=tags, at=now)


def _classify_new(ctx, item: RuleInput) -> None:
    routing, ticket = ctx.config.routing, ctx.ticket
    _apply_outcome(ctx, classify(routing.compiled_rules, routing.priority, item,
                                 ticket.priority))


def _apply_outcome(ctx, outcome: Outcome) -> None:
    """The rules' outcome on a new ticket (skills, priority, tags, department, SLA policy,
    the reasons, a status) and its mark for routing."""
    routing, ticket = ctx.config.routing, ctx.ticket
    required, preferred = dict(outcome.required), dict(outcome.preferred)
    lang = routing.language
    if ticket.language and lang.skill == "required":
        skill = language_skill(ticket.language)
        required[skill] = max(required.get(skill, 0), lang.level)
    elif ticket.language and lang.skill == "preferred":
        skill = language_skill(ticket.language)
        preferred[skill] = preferred.get(skill, 0) + lang.weight
    ticket.skills, ticket.preferred = required, preferred
    ticket.priority = outcome.priority
    ticket.tags = list(dict.fromkeys([*(ticket.tags or []), *outcome.tags]))
    ticket.department = outcome.department or ""
    ticket.sla_policy = outcome.sla or ""
    ticket.routing_reason = {"rules": outcome.matched, "reasons": outcome.reasons,
                             "ladder": outcome.ladder}
    if outcome.status and outcome.status != ticket.status:
        repo.set_status(ctx.session, ticket, outcome.status, actor="rules")
    if routing.enabled and ticket.status not in NOT_ROUTED:
        ticket.routing_state = "new"


def _raise(ctx, item: RuleInput) -> None:
    routing, ticket = ctx.config.routing, ctx.ticket
    priority, _reasons = raise_priority(routing.priority, item, ticket.priority)
    if priority != ticket.priority:
        repo.audit(ctx.session, ticket, "priority", ticket.priority, priority, "rules")
        sla_clock.reprioritize(ticket, priority, routing, item.at)
