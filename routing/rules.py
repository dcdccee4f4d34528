"""A workspace's declarative routing rules and priority raisers (schema: ``routing.rules_schema``,
re-exported here), compiled once into predicates, and a pure evaluation of one message against
them (no eval, no I/O): ``classify(Rules(rule_specs), priority_spec, RuleInput(...))``.

A rule matches when every condition it gives holds (an empty list or a missing key is no
condition; no conditions at all: always). Matched rules merge in order: ``required`` keeps the
highest level per skill, ``preferred`` sums the weights, ``priority`` is the highest set,
``tags`` is the ordered union, and ``department``, ``status``, ``ladder``, ``sla`` come from the
first rule that sets them. A matched rule with ``stop`` ends the evaluation. Raisers then only
ever raise the priority: a keyword (whole word, any case) in the subject or text, or a VIP
customer tag or sender.

Regex safety: ``subject`` and ``text`` patterns run on RE2 (``routing.user_regex``), which
matches in time linear in the input, so a pathological pattern such as ``(a+)+$`` cannot stall a
worker; each still sees only the first ``SUBJECT_LIMIT`` characters of the subject and
``TEXT_LIMIT`` of the text, encoded to UTF-8 once per message. The keyword raisers use Python's
``re`` on patterns built by our own code from escaped literals.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Callable, Iterable

from routing.model import PRIORITIES, PRIORITY_RANK
from routing.rules_schema import (ActionIn, HoursIn, MatchIn, PriorityIn, RuleIn, RulesIn, globs,
                                  normal_word, validate)
from routing.user_regex import user_regex

__all__ = ["ActionIn", "HoursIn", "MatchIn", "Outcome", "PriorityIn", "RuleIn", "RuleInput",
           "Rules", "RulesIn", "SUBJECT_LIMIT", "TEXT_LIMIT", "classify", "evaluate",
           "language_skill", "load_raisers", "load_rules", "raise_priority"]

SUBJECT_LIMIT = 1_000  # characters of the subject that regexes and keywords look at
TEXT_LIMIT = 20_000  # characters of the message text that regexes and keywords look at


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleInput:
    """What rules look at in one message. ``at`` (when it arrived) must be timezone-aware."""

    channel: str
    at: datetime
    recipients: tuple[str, ...] = ()
    sender: str = ""
    subject: str = ""
    text: str = ""
    language: str = ""
    customer_tags: frozenset[str] = frozenset()
    subject_utf8: bytes = field(init=False, repr=False, compare=False)  # what RE2 searches
    text_utf8: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.at.utcoffset() is None:
            raise ValueError("RuleInput.at must be timezone-aware")
        object.__setattr__(self, "subject_utf8", _utf8(self.subject[:SUBJECT_LIMIT]))
        object.__setattr__(self, "text_utf8", _utf8(self.text[:TEXT_LIMIT]))


def _utf8(text: str) -> bytes:
    """``text`` as RE2 reads it; a lone surrogate (a JSON ``\\ud800``) becomes bytes that are
    no UTF-8 character, instead of an error."""
    return text.encode("utf-8", "surrogatepass")


Condition = Callable[[RuleInput], bool]


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule: its conditions as predicates, cheapest first."""

    name: str
    conditions: tuple[Condition, ...]
    then: ActionIn
    stop: bool

    def matches(self, item: RuleInput) -> bool:
        for condition in self.conditions:  # a plain loop: twice as fast as all() on a genexpr
            if not condition(item):
                return False
        return True


class Rules:
    """Validated rules (unique names: ``RulesIn`` or the caller checks), compiled once."""

    __slots__ = ("rules",)

    def __init__(self, specs: Iterable[RuleIn] = ()):
        self.rules = tuple(Rule(r.name, _conditions(r.match), r.then, r.stop) for r in specs)


def _conditions(match: MatchIn) -> tuple[Condition, ...]:
    found: list[Condition] = []
    if match.channels:
        channels = frozenset(match.channels)
        found.append(lambda item: item.channel in channels)
    if match.languages:
        languages = frozenset(match.languages)
        found.append(lambda item: item.language in languages)
    if match.customer_tags:
        tags = frozenset(match.customer_tags)
        found.append(lambda item: not tags.isdisjoint(item.customer_tags))
    if match.senders:
        senders = globs(match.senders)
        found.append(lambda item: senders.match(item.sender) is not None)
    if match.recipients:
        recipients = globs(match.recipients)
        found.append(lambda item: any(recipients.match(r) for r in item.recipients))
    if match.hours is not None:
        within = match.hours.checker()
        found.append(lambda item: within(item.at))
    if match.subject is not None:
        subject = user_regex(match.subject)
        found.append(lambda item: subject.search(item.subject_utf8) is not None)
    if match.text is not None:
        text = user_regex(match.text)
        found.append(lambda item: text.search(item.text_utf8) is not None)
    return tuple(found)


@dataclass(slots=True)
class Outcome:
    """What the matched rules (and, through ``classify``, the raisers) decided for a message.

    ``reasons`` is JSON-able: ``{"rule": name}`` per matched rule, then one dict per raiser that
    raised the priority, e.g. ``{"raiser": "keyword", "word": "outage", "priority": "urgent"}``.
    """

    required: dict[str, int] = field(default_factory=dict)
    preferred: dict[str, float] = field(default_factory=dict)
    priority: str | None = None
    tags: list[str] = field(default_factory=list)
    department: str | None = None
    status: str | None = None
    ladder: str | None = None
    sla: str | None = None
    matched: list[str] = field(default_factory=list)
    reasons: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def evaluate(rules: Rules, item: RuleInput) -> Outcome:
    """Merge the actions of every rule that matches ``item``, in order, up to a ``stop``."""
    outcome = Outcome()
    for rule in rules.rules:
        if rule.matches(item):
            _merge(outcome, rule.name, rule.then)
            if rule.stop:
                break
    return outcome


def _merge(outcome: Outcome, name: str, then: ActionIn) -> None:
    outcome.matched.append(name)
    outcome.reasons.append({"rule": name})
    for skill, level in then.required.items():
        outcome.required[skill] = max(level, outcome.required.get(skill, 0))
    for skill, weight in then.preferred.items():
        outcome.preferred[skill] = outcome.preferred.get(skill, 0.0) + weight
    if then.priority is not None:
        outcome.priority = _highest(outcome.priority or then.priority, then.priority)
    for tag in then.tags:
        if tag not in outcome.tags:
            outcome.tags.append(tag)
    outcome.department = outcome.department or then.department
    outcome.status = outcome.status or then.status
    outcome.ladder = outcome.ladder or then.ladder
    outcome.sla = outcome.sla or then.sla


def _highest(*priorities: str) -> str:
    return max(priorities, key=PRIORITY_RANK.__getitem__)


def raise_priority(raisers: PriorityIn, item: RuleInput, base: str) -> tuple[str, list[dict]]:
    """The priority after the raisers (never below ``base``) and a reason per raiser above it."""
    if base not in PRIORITY_RANK:
        raise ValueError(f"unknown priority {base!r}; expected one of {PRIORITIES}")
    found = [reason for reason in (_keyword(raisers, item), _vip(raisers, item)) if reason]
    raised = [reason for reason in found if PRIORITY_RANK[reason["priority"]] > PRIORITY_RANK[base]]
    return _highest(base, *(reason["priority"] for reason in raised)), raised


def _keyword(raisers: PriorityIn, item: RuleInput) -> dict | None:
    for priority, pattern, configured in raisers.keyword_patterns:
        hit = (pattern.search(item.subject, 0, SUBJECT_LIMIT)
               or pattern.search(item.text, 0, TEXT_LIMIT))
        if hit:
            word = configured.get(normal_word(hit.group(0)), hit.group(0))
            return {"raiser": "keyword", "word": word, "priority": priority}
    return None


def _vip(raisers: PriorityIn, item: RuleInput) -> dict | None:
    tags = sorted(set(raisers.vip_tags).intersection(item.customer_tags))
    if tags:
        return {"raiser": "vip", "tag": tags[0], "priority": raisers.vip_priority}
    senders = raisers.vip_sender_pattern
    if senders is not None and senders.match(item.sender):
        return {"raiser": "vip", "sender": item.sender, "priority": raisers.vip_priority}
    return None


def classify(rules: Rules, raisers: PriorityIn, item: RuleInput,
             default_priority: str = "medium") -> Outcome:
    """``evaluate`` then ``raise_priority`` from the rules' priority (or ``default_priority``);
    the outcome's priority is always set."""
    outcome = evaluate(rules, item)
    outcome.priority, raised = raise_priority(raisers, item, outcome.priority or default_priority)
    outcome.reasons.extend(raised)
    return outcome


def language_skill(language: str) -> str:
    """The routing skill of agents who speak ``language`` (an ISO 639-1 code)."""
    if not language:
        raise ValueError("language_skill needs a language code")
    return f"lang:{language}"


def load_rules(data: object) -> Rules:
    """Validate a rule list (e.g. from YAML) and compile it; ``ConfigError`` names each path."""
    return Rules(validate(RulesIn, data).root)


def load_raisers(data: object) -> PriorityIn:
    """Validate the priority raisers' mapping; ``ConfigError`` names each path."""
    return validate(PriorityIn, data)

