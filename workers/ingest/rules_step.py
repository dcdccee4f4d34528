"""The pipeline's rules step (docs/routing.md; ... lifecycle -> rules -> route -> store).

A new ticket gets what the workspace's rules and priority raisers say (required and preferred
skills, priority, tags, department, status, ladder, SLA policy) plus its detected language, and
is marked for routing (``routing_state`` "new"; ``tickets.assign`` routes it after the commit).
A later customer message can only raise the priority (keywords, VIP), and re-routes a ticket
that was finished and is open again. Every customer message moves the SLA clock.
Automatic mail and spam never touch any of it.
"""
from __future__ import annotations

from store import repo
from store.models import FINISHED, utcnow
from routing import language
from routing.rules import RuleInput, classify, language_skill, raise_priority
from tickets import route_store, sla_clock

NOT_ROUTED = ("spam", "deleted")


def apply_rules(ctx) -> None:
    routing, ticket = ctx.config.routing, ctx.ticket
    if ctx.automatic or ticket.status in NOT_ROUTED or not (routing.enabled or routing.sla):
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


def early_language(event, config) -> str | None:
    """The language of a message that will likely open a ticket (it names no conversation),
    detected before the batch's store transaction so that this CPU work is not done under its
    lock; None when it is left to the rules step (a reply keeps its ticket's language)."""
    hints = event.thread
    if not config.routing.language.detect or hints.in_reply_to or hints.references \
            or hints.reply_token or hints.body_marker or hints.subject_number is not None \
            or hints.conversation_id:
        return None
    return _detect(event, config)


def _detect(event, config) -> str:
    return language.detect(f"{event.subject}\n{event.text}", config.routing.language.candidates)


def rule_input(ctx, now) -> RuleInput:
    event, ticket = ctx.event, ctx.ticket
    if not ticket.language and ctx.config.routing.language.detect:
        ticket.language = ctx.language if ctx.language is not None else \
            _detect(event, ctx.config)
    recipients = tuple(a.address.lower() for a in (*event.to, *event.cc))
    tags = route_store.customer_tags(ctx.session, ticket)
    return RuleInput(channel=event.channel, recipients=recipients,
                     sender=event.sender.address.lower(), subject=event.subject,
                     text=event.text, language=ticket.language or "", customer_tags=tags, at=now)


def _classify_new(ctx, item: RuleInput) -> None:
    routing, ticket = ctx.config.routing, ctx.ticket
    outcome = classify(routing.compiled_rules, routing.priority, item, ticket.priority)
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
