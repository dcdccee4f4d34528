"""Declarative routing rules: each condition alone and combined, stop, merging, configuration
errors naming their path, and a property that evaluation never raises on arbitrary message
content (priority raisers: test_priority_raisers.py)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from routing import rules_schema
from routing.rules import (TEXT_LIMIT, RuleInput, Rules, classify, evaluate, language_skill,
                           load_raisers, load_rules)
from tests.routing.rule_helpers import RAISERS, item, matches, problems, rule


# --- each condition alone ---------------------------------------------------------------

def test_a_rule_without_conditions_always_matches():
    assert matches(rule(), item())
    assert matches({"name": "r", "then": {}}, item(channel="chat"))


def test_channels():
    spec = rule(channels=["chat", "telegram"])
    assert matches(spec, item(channel="telegram"))
    assert not matches(spec, item(channel="email"))


def test_recipients_are_case_insensitive_globs_and_any_recipient_counts():
    spec = rule(recipients=["billing@*", "*@vip.demo.test"])
    assert matches(spec, item(recipients=("support@demo.test", "BILLING@demo.test")))
    assert matches(spec, item(recipients=("boss@vip.demo.test",)))
    assert not matches(spec, item(recipients=("support@demo.test",)))
    assert not matches(spec, item(recipients=()))


def test_senders_are_case_insensitive_globs_on_the_whole_address():
    spec = rule(senders=["*@bigcorp.com"])
    assert matches(spec, item(sender="Jane.Doe@BigCorp.COM"))
    assert not matches(spec, item(sender="jane@bigcorp.com.evil.test"))
    assert not matches(spec, item(sender=""))


def test_subject_regex_is_searched_in_any_case():
    spec = rule(subject=r"\binvoice\b|faktur")
    assert matches(spec, item(subject="Re: Your INVOICE #42"))
    assert matches(spec, item(subject="Dotaz k fakturaci"))
    assert not matches(spec, item(subject="invoices"))
    assert not matches(spec, item(text="invoice"))


def test_text_regex_sees_only_the_first_20000_characters():
    spec = rule(text="refund")
    assert matches(spec, item(text="I want a REFUND please"))
    assert not matches(spec, item(subject="refund"))
    assert matches(spec, item(text="x" * (TEXT_LIMIT - 6) + "refund"))
    assert not matches(spec, item(text="x" * TEXT_LIMIT + "refund"))


def test_languages():
    spec = rule(languages=["cs", "sk"])
    assert matches(spec, item(language="sk"))
    assert not matches(spec, item(language="en"))
    assert not matches(spec, item(language=""))


def test_customer_tags_match_when_any_is_present():
    spec = rule(customer_tags=["vip", "partner"])
    assert matches(spec, item(customer_tags=frozenset({"partner", "eu"})))
    assert not matches(spec, item(customer_tags=frozenset({"eu"})))
    assert not matches(spec, item())


def test_hours_use_the_rules_timezone_and_days():
    spec = rule(hours={"days": ["mon", "tue", "wed", "thu", "fri"], "between": "08:00-17:00",
                       "timezone": "Europe/Prague"})
    assert matches(spec, item(at=datetime(2025, 3, 4, 7, 0, tzinfo=timezone.utc)))  # 08:00 CET
    assert not matches(spec, item(at=datetime(2025, 3, 4, 6, 59, tzinfo=timezone.utc)))
    assert not matches(spec, item(at=datetime(2025, 3, 4, 16, 0, tzinfo=timezone.utc)))  # 17:00
    assert not matches(spec, item(at=datetime(2025, 3, 8, 9, 0, tzinfo=timezone.utc)))  # Sat
    summer = datetime(2025, 7, 1, 6, 30, tzinfo=timezone.utc)  # 08:30 CEST
    assert matches(spec, item(at=summer))


def test_an_overnight_window_belongs_to_the_day_it_starts():
    spec = rule(hours={"days": ["fri"], "between": "22:00-06:00", "timezone": "UTC"})
    friday = datetime(2025, 3, 7, tzinfo=timezone.utc)
    assert matches(spec, item(at=friday + timedelta(hours=23)))
    assert matches(spec, item(at=friday + timedelta(days=1, hours=3)))  # Saturday 03:00
    assert not matches(spec, item(at=friday + timedelta(hours=3)))  # belongs to Thursday
    assert not matches(spec, item(at=friday + timedelta(hours=12)))


def test_a_window_may_end_at_midnight_and_days_default_to_all():
    spec = rule(hours={"between": "18:00-24:00", "timezone": "UTC"})
    sunday = datetime(2025, 3, 9, tzinfo=timezone.utc)
    assert matches(spec, item(at=sunday + timedelta(hours=23, minutes=59)))
    assert not matches(spec, item(at=sunday + timedelta(hours=17, minutes=59)))


def test_the_moment_may_be_given_in_any_timezone():
    spec = rule(hours={"between": "08:00-09:00", "timezone": "Europe/Prague"})
    new_york = timezone(timedelta(hours=-5))
    assert matches(spec, item(at=datetime(2025, 3, 4, 2, 30, tzinfo=new_york)))


def test_a_moment_at_the_edge_of_the_calendar_is_outside_any_window():
    spec = rule(hours={"between": "00:00-24:00", "timezone": "Pacific/Kiritimati"})
    assert matches(spec, item())
    assert not matches(spec, item(at=datetime.max.replace(tzinfo=timezone.utc)))
    assert not matches(spec, item(at=datetime.min.replace(tzinfo=timezone.utc)))


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        RuleInput(channel="email", at=datetime(2025, 3, 4, 9, 0))


# --- combinations, order and stop --------------------------------------------------------

def test_every_given_condition_must_hold():
    spec = rule(channels=["email"], senders=["*@bigcorp.com"], subject="outage",
                languages=["en"], customer_tags=["vip"])
    full = dict(sender="a@bigcorp.com", subject="Outage!", language="en",
                customer_tags=frozenset({"vip"}))
    assert matches(spec, item(**full))
    for key, other in [("channel", "chat"), ("sender", "a@small.test"), ("subject", "hi"),
                       ("language", "de"), ("customer_tags", frozenset())]:
        assert not matches(spec, item(**{**full, key: other})), key


def test_matched_rules_are_listed_in_order_with_a_reason_each():
    rules = load_rules([rule("a"), rule("b", channels=["chat"]), rule("c")])
    outcome = evaluate(rules, item())
    assert outcome.matched == ["a", "c"]
    assert outcome.reasons == [{"rule": "a"}, {"rule": "c"}]


def test_stop_ends_the_evaluation_only_when_its_rule_matched():
    rules = load_rules([rule("a", stop=True, channels=["chat"]), rule("b", stop=True),
                        rule("c")])
    assert evaluate(rules, item()).matched == ["b"]
    assert evaluate(rules, item(channel="chat")).matched == ["a"]


def test_no_rules_decide_nothing():
    outcome = evaluate(Rules(), item())
    assert outcome.as_dict() == {"required": {}, "preferred": {}, "priority": None, "tags": [],
                                 "department": None, "status": None, "ladder": None,
                                 "sla": None, "matched": [], "reasons": []}


def test_actions_merge_across_matched_rules():
    rules = load_rules([
        rule("a", then={"required": {"lang:cs": 2, "billing": 4}, "preferred": {"vat": 1.5},
                        "priority": "low", "tags": ["cs", "billing"], "sla": "gold"}),
        rule("b", then={"required": {"lang:cs": 3, "billing": 1}, "preferred": {"vat": 1},
                        "priority": "high", "tags": ["billing", "vip"], "department": "finance",
                        "status": "open", "ladder": "fast"}),
        rule("c", then={"preferred": {"refunds": 2}, "priority": "medium", "tags": ["cs"],
                        "department": "general", "status": "spam", "ladder": "slow",
                        "sla": "bronze"}),
    ])
    outcome = evaluate(rules, item())
    assert outcome.required == {"lang:cs": 3, "billing": 4}
    assert outcome.preferred == {"vat": 2.5, "refunds": 2}
    assert outcome.priority == "high"
    assert outcome.tags == ["cs", "billing", "vip"]
    assert (outcome.department, outcome.status) == ("finance", "open")
    assert (outcome.ladder, outcome.sla) == ("fast", "gold")


def test_the_outcome_is_json_serializable():
    rules = load_rules([rule("a", then={"required": {"x": 1}, "priority": "high"})])
    raisers = load_raisers({"keywords": {"urgent": ["outage"]}})
    outcome = classify(rules, raisers, item(text="outage"))
    assert json.loads(json.dumps(outcome.as_dict()))["reasons"] == [
        {"rule": "a"}, {"raiser": "keyword", "word": "outage", "priority": "urgent"}]


def test_language_skill():
    assert language_skill("cs") == "lang:cs"
    with pytest.raises(ValueError):
        language_skill("")


# --- configuration errors -----------------------------------------------------------------

@pytest.mark.parametrize("data, expected", [
    ([rule(subject="(unclosed")], "0.match.subject: Value error, invalid regular expression"),
    ([rule(), rule("s", text="[a-")], "1.match.text: Value error, invalid regular expression"),
    ([rule(then={"required": {"billing": 6}})], "0.then.required.billing: Input should be less"),
    ([rule(then={"required": {"billing": 0}})], "0.then.required.billing: Input should be great"),
    ([rule(then={"preferred": {"vat": 0}})], "0.then.preferred.vat: Input should be greater"),
    ([{**rule(), "when": {}}], "0.when: Extra inputs are not permitted"),
    ([rule(sender=["x"])], "0.match.sender: Extra inputs are not permitted"),
    ([rule(then={"skills": {}})], "0.then.skills: Extra inputs are not permitted"),
    ([rule(hours={"timezone": "UTC", "from": "08:00"})], "0.match.hours.from: Extra inputs"),
    ([rule(channels=["mail"])], "0.match.channels.0: Input should be 'email'"),
    ([rule(languages=["Czech"])], "0.match.languages.0: String should match pattern"),
    ([rule(then={"priority": "critical"})], "0.then.priority: Input should be 'low'"),
    ([rule(then={"status": "closed"})], "0.then.status: Input should be 'new'"),
    ([{"match": {}, "then": {}}], "0.name: Field required"),
    ([{"name": "r"}], "0.then: Field required"),
    ([rule("a"), rule("b"), rule("a")], "(root): Value error, duplicate rule names: 'a'"),
    ({"name": "r"}, "(root): Input should be a valid list"),
])
def test_a_bad_rule_is_an_error_naming_its_path(data, expected):
    assert any(problem.startswith(expected) for problem in problems(data)), problems(data)


@pytest.mark.parametrize("hours, expected", [
    ({"between": "8:00-17:00", "timezone": "UTC"}, 'between: Value error, must look like'),
    ({"between": "08:00-25:00", "timezone": "UTC"}, "between: Value error, hours are 00-23"),
    ({"between": "24:00-08:00", "timezone": "UTC"}, "between: Value error, hours are 00-23"),
    ({"between": "08:60-09:00", "timezone": "UTC"}, "between: Value error, hours are 00-23"),
    ({"between": "08:00-08:00", "timezone": "UTC"}, "between: Value error, the window is empty"),
    ({"between": "08:00-17:00\n", "timezone": "UTC"}, "between: Value error, must look like"),
    ({"timezone": "Europe/Praha"}, "timezone: Value error, unknown timezone 'Europe/Praha'"),
    ({"timezone": "Europe"}, "timezone: Value error, unknown timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone: Value error, unknown timezone"),
    ({"between": "08:00-17:00"}, "timezone: Field required"),
    ({"days": ["monday"], "timezone": "UTC"}, "days.0: Input should be 'mon'"),
    ({"days": [], "timezone": "UTC"}, "days: List should have at least 1 item"),
])
def test_bad_hours_are_errors_naming_their_path(hours, expected):
    found = problems([rule(hours=hours)])
    assert any(problem.startswith("0.match.hours." + expected) for problem in found), found


def test_the_documented_example_loads():
    doc = rules_schema.__doc__
    example = yaml.safe_load(doc[doc.index("    rules:"):])
    rules, raisers = load_rules(example["rules"]), load_raisers(example["priority"])
    message = item(recipients=("support@demo.test",), sender="joe@bigcorp.com",
                   subject="Outage", text="web nefunguje", language="cs",
                   customer_tags=frozenset({"vip"}))
    outcome = classify(rules, raisers, message)
    assert outcome.matched == ["outage-cs"]
    assert outcome.priority == "urgent"


# --- property: evaluation never raises ----------------------------------------------------

PROPERTY_RULES = load_rules([
    rule("a", subject=r"^(re|fwd?):\s*\[#\d+\]", text=r"(?m)^order\s+\d+$"),
    rule("b", senders=["*@*.test", "[a-c]*"], recipients=["*+*@demo.test"]),
    rule("c", languages=["cs"], customer_tags=["vip"], stop=True,
         hours={"days": ["sat", "sun"], "between": "20:00-04:00", "timezone": "Asia/Tokyo"}),
    rule("d", text=r"(?:^|\W)(outage|výpadek|障害)(?:\W|$)",
         then={"priority": "urgent", "tags": ["x"]}),
    rule("e", hours={"days": ["mon"], "between": "23:00-01:00", "timezone": "Pacific/Kiritimati"}),
])
PROPERTY_RAISERS = load_raisers(RAISERS)
moments = st.datetimes(timezones=st.timezones(), allow_imaginary=False)


@settings(max_examples=300, deadline=None)
@given(subject=st.text(), text=st.text(), sender=st.text(), recipients=st.lists(st.text()),
       language=st.text(max_size=4), tags=st.frozensets(st.text(max_size=6)),
       channel=st.text(max_size=9), at=moments)
def test_classify_never_raises_on_arbitrary_messages(subject, text, sender, recipients,
                                                     language, tags, channel, at):
    message = RuleInput(channel=channel, at=at, recipients=tuple(recipients), sender=sender,
                        subject=subject, text=text, language=language, customer_tags=tags)
    outcome = classify(PROPERTY_RULES, PROPERTY_RAISERS, message)
    assert outcome.priority in ("medium", "high", "urgent")
    assert set(outcome.matched) <= {"a", "b", "c", "d", "e"}
    json.dumps(outcome.as_dict())
