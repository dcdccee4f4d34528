"""Priority raisers: keywords as whole words, VIP tags and senders, raising only (never
lowering), how they combine with the rules' priority, and configuration errors naming their
path."""
from __future__ import annotations

import pytest
from pydantic import BaseModel

from routing.rules import (TEXT_LIMIT, PriorityIn, RuleIn, Rules, classify, evaluate,
                           load_raisers, load_rules, raise_priority)
from tests.routing.rule_helpers import RAISERS, item, problems, rule

# --- keywords and VIPs ---------------------------------------------------------------------

@pytest.mark.parametrize("subject, text, expected", [
    ("", "We have an OUTAGE since 9:00", "urgent"),
    ("Outage!", "", "urgent"),
    ("", "the site is not\n  working", "urgent"),
    ("", "I want a refund; also an outage", "urgent"),
    ("", "Refund, please.", "high"),
    ("", "our c++ build", "high"),
    ("", "outages happen", "medium"),
    ("", "refunded already", "medium"),
    ("", "nothing to see", "medium"),
])
def test_keywords_are_whole_words_in_any_case(subject, text, expected):
    priority, _ = raise_priority(load_raisers(RAISERS), item(subject=subject, text=text),
                                 "medium")
    assert priority == expected


def test_a_keyword_reason_names_the_configured_word():
    _, reasons = raise_priority(load_raisers(RAISERS), item(text="NOT   WORKING"), "low")
    assert reasons == [{"raiser": "keyword", "word": "not working", "priority": "urgent"}]


def test_keywords_beyond_the_text_limit_are_not_seen():
    late = item(text="x " * TEXT_LIMIT + "outage")
    assert raise_priority(load_raisers(RAISERS), late, "low") == ("low", [])


def test_vip_tag_and_sender_raise_to_the_vip_priority():
    raisers = load_raisers({**RAISERS, "vip_priority": "urgent"})
    assert raise_priority(raisers, item(customer_tags=frozenset({"vip"})), "low") == (
        "urgent", [{"raiser": "vip", "tag": "vip", "priority": "urgent"}])
    assert raise_priority(raisers, item(sender="CEO@BigCorp.com"), "medium") == (
        "urgent", [{"raiser": "vip", "sender": "CEO@BigCorp.com", "priority": "urgent"}])
    assert raise_priority(raisers, item(sender="ceo@small.test"), "medium") == ("medium", [])


def test_every_raiser_above_the_base_is_a_reason():
    _, reasons = raise_priority(load_raisers(RAISERS),
                                item(text="refund", customer_tags=frozenset({"vip"})), "low")
    assert reasons == [{"raiser": "keyword", "word": "refund", "priority": "high"},
                       {"raiser": "vip", "tag": "vip", "priority": "high"}]


@pytest.mark.parametrize("base", ["high", "urgent"])
def test_raisers_never_lower(base):
    message = item(text="refund", customer_tags=frozenset({"vip"}))
    assert raise_priority(load_raisers(RAISERS), message, base) == (base, [])


def test_an_unknown_base_priority_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown priority 'critical'"):
        raise_priority(load_raisers({}), item(), "critical")


def test_classify_starts_from_the_default_or_the_rules_priority():
    none, raisers = load_rules([]), load_raisers(RAISERS)
    assert classify(none, raisers, item()).priority == "medium"
    assert classify(none, raisers, item(), default_priority="low").priority == "low"
    low = load_rules([rule("quiet", then={"priority": "low"})])
    assert classify(low, raisers, item()).priority == "low"
    raised = classify(low, raisers, item(text="outage"))
    assert raised.priority == "urgent"
    assert raised.reasons[0] == {"rule": "quiet"}


def test_rules_compile_from_rule_models_and_raisers_compile_once():
    specs = [RuleIn(name="a", then={"tags": ["x"]}), RuleIn(name="b", match={"channels": ["chat"]},
                                                        then={"tags": ["y"]})]
    assert evaluate(Rules(specs), item()).tags == ["x"]
    raisers = PriorityIn(keywords={"urgent": ["outage"]})
    assert raisers.keyword_patterns is raisers.keyword_patterns
    assert raise_priority(raisers, item(text="outage"), "low")[0] == "urgent"


def test_raisers_work_as_the_default_of_an_enclosing_model():
    class Block(BaseModel):
        priority: PriorityIn = PriorityIn(keywords={"high": ["refund"]}, vip_tags=["vip"])

    block = Block()
    assert raise_priority(block.priority, item(text="Refund!"), "low")[0] == "high"
    assert raise_priority(block.priority, item(customer_tags=frozenset({"vip"})), "low")[0] == "high"


@pytest.mark.parametrize("data, expected", [
    ({"keywords": {"critical": ["x"]}}, "keywords.critical.[key]: Input should be 'low'"),
    ({"keywords": {"high": ["  "]}}, "keywords.high.0: String should match pattern"),
    ({"vip_priority": "asap"}, "vip_priority: Input should be 'low'"),
    ({"vip_senders": [""]}, "vip_senders.0: String should have at least 1 character"),
    ({"vips": ["x"]}, "vips: Extra inputs are not permitted"),
])
def test_bad_raisers_are_errors_naming_their_path(data, expected):
    found = problems(data, load_raisers)
    assert any(problem.startswith(expected) for problem in found), found
