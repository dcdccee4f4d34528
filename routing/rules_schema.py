"""The schema of a workspace's routing rules and priority raisers (see ``routing.rules``).

Every model forbids unknown keys, so a typo is an error naming its path; regular expressions,
business-hours windows and time zones are checked when the configuration loads, never later.

``subject`` and ``text`` are RE2 patterns (``routing.user_regex``: linear-time, so no pattern a
workspace writes can stall a worker).

    rules:
      - name: outage-cs
        match: {channels: [email, chat], recipients: ["support@*"], senders: ["*@bigcorp.com"],
                subject: "outage|down", text: "nefunguje", languages: [cs], customer_tags: [vip],
                hours: {days: [mon, tue, wed, thu, fri], between: "08:00-17:00",
                        timezone: Europe/Prague}}
        then: {required: {"lang:cs": 3}, preferred: {billing: 1.5}, priority: high,
               tags: [outage], department: tech, status: open, ladder: default, sla: gold}
        stop: true
    priority:
      keywords: {urgent: [outage, "not working"], high: [refund]}
      vip_tags: [vip]
      vip_senders: ["*@bigcorp.com"]
      vip_priority: high
"""
from __future__ import annotations

import fnmatch
import re
from collections import Counter
from datetime import datetime
from functools import cached_property
from typing import Annotated, Callable, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, RootModel, ValidationError, field_validator, model_validator

from routing.model import MAX_LEVEL, PRIORITIES, PRIORITY_RANK
from routing.schema import ConfigError, Strict
from routing.user_regex import user_regex

CHANNELS = ("email", "form", "chat", "telegram")
RULE_STATUSES = ("new", "open", "postponed", "spam")  # ticket statuses a rule may set
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Priority = Literal[PRIORITIES]  # type: ignore[valid-type]
Name = Annotated[str, Field(min_length=1)]
_WINDOW = re.compile(r"([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})")


def _check_regex(value: str | None) -> str | None:
    if value is not None:
        user_regex(value)
    return value


def window_minutes(between: str) -> tuple[int, int]:
    """``"HH:MM-HH:MM"`` as (start, end) minutes of the day; end may be 24:00 or before start
    (the window then runs past midnight)."""
    found = _WINDOW.fullmatch(between)
    if not found:
        raise ValueError('must look like "HH:MM-HH:MM"')
    start_h, start_m, end_h, end_m = map(int, found.groups())
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if start_h > 23 or start_m > 59 or end_m > 59 or end > 24 * 60:
        raise ValueError("hours are 00-23 (24:00 only as an end), minutes 00-59")
    if start == end:
        raise ValueError("the window is empty (start equals end)")
    return start, end


class HoursIn(Strict):
    days: list[Literal[DAYS]] = Field(default=list(DAYS), min_length=1)  # type: ignore[valid-type]
    between: str = "00:00-24:00"
    timezone: str

    @field_validator("between")
    @classmethod
    def _window(cls, value: str) -> str:
        window_minutes(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value

    def checker(self) -> Callable[[datetime], bool]:
        """Whether a moment falls in the window on one of the days (local time). A window past
        midnight belongs to the day it starts on: fri 22:00-06:00 includes Saturday 03:00."""
        zone, days = ZoneInfo(self.timezone), frozenset(DAYS.index(d) for d in self.days)
        start, end = window_minutes(self.between)

        def holds(at: datetime) -> bool:
            try:
                local = at.astimezone(zone)
            except OverflowError:  # year 1 or 9999 shifted out of the calendar: no real moment
                return False
            minute, day = local.hour * 60 + local.minute, local.weekday()
            if start < end:
                return start <= minute < end and day in days
            if minute >= start:
                return day in days
            return minute < end and (day - 1) % 7 in days
        return holds


class MatchIn(Strict):
    channels: list[Literal[CHANNELS]] = []  # type: ignore[valid-type]
    recipients: list[Name] = []  # globs, any case
    senders: list[Name] = []  # globs, any case
    subject: str | None = None  # regex, any case
    text: str | None = None  # regex, any case
    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]] = []
    customer_tags: list[Name] = []  # any of them
    hours: HoursIn | None = None

    _regex = field_validator("subject", "text")(_check_regex)


class ActionIn(Strict):
    required: dict[Name, Annotated[int, Field(ge=1, le=MAX_LEVEL)]] = {}
    preferred: dict[Name, Annotated[float, Field(gt=0)]] = {}
    priority: Priority | None = None
    tags: list[Name] = []
    department: Name | None = None
    status: Literal[RULE_STATUSES] | None = None  # type: ignore[valid-type]
    ladder: Name | None = None  # a relaxation ladder's name, resolved by the caller
    sla: Name | None = None  # an SLA policy's name, resolved by the caller


class RuleIn(Strict):
    name: Name
    match: MatchIn = MatchIn()
    then: ActionIn
    stop: bool = False


class RulesIn(RootModel[list[RuleIn]]):
    """The ordered rule list of a workspace; names are unique."""

    @model_validator(mode="after")
    def _unique_names(self) -> RulesIn:
        counts = Counter(rule.name for rule in self.root)
        duplicates = sorted(name for name, count in counts.items() if count > 1)
        if duplicates:
            raise ValueError(f"duplicate rule names: {', '.join(map(repr, duplicates))}")
        return self


class PriorityIn(Strict):
    """The priority raisers; their patterns are compiled once, on first use."""

    keywords: dict[Priority, list[Annotated[str, Field(pattern=r"\S")]]] = {}
    vip_tags: list[Name] = []
    vip_senders: list[Name] = []  # globs, any case
    vip_priority: Priority = "high"

    @cached_property
    def keyword_patterns(self) -> tuple[tuple[str, re.Pattern[str], dict[str, str]], ...]:
        """(priority, pattern, configured word by ``normal_word``), highest priority first."""
        ranked = sorted(self.keywords.items(), key=lambda pair: -PRIORITY_RANK[pair[0]])
        return tuple((priority, _whole_words(words), {normal_word(w): w for w in words})
                     for priority, words in ranked if words)

    @cached_property
    def vip_sender_pattern(self) -> re.Pattern[str] | None:
        return globs(self.vip_senders) if self.vip_senders else None


def globs(patterns: list[str]) -> re.Pattern[str]:
    """One pattern matching a whole string against any of the ``fnmatch`` globs, any case.
    Python's ``re``, not RE2: ``fnmatch.translate`` writes the pattern (literals escaped, ``*``
    made backtracking-free by the standard library), so no workspace regex syntax reaches it."""
    return re.compile("|".join(fnmatch.translate(p) for p in patterns), re.IGNORECASE)


def normal_word(word: str) -> str:
    """A keyword or a match of it, lower case with single spaces."""
    return " ".join(word.split()).lower()


def _whole_words(words: list[str]) -> re.Pattern[str]:
    """Whole words or phrases, any case and any spacing inside a phrase. Python's ``re``, not
    RE2: the lookbehind/lookahead give Unicode word edges RE2 lacks, and the pattern is ours,
    built from escaped literals, so it cannot backtrack catastrophically."""
    phrases = (r"\s+".join(map(re.escape, word.split())) for word in words)
    return re.compile(rf"(?<!\w)(?:{'|'.join(phrases)})(?!\w)", re.IGNORECASE)


def validate(model: type[BaseModel], data: object):
    """``model`` validated from plain data; raises ``ConfigError`` with one "path: message" per
    problem (list positions are numbers: ``3.match.subject``)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}"
                           for e in exc.errors()]) from None

