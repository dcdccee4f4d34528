"""Builders shared by the tests of rules and priority raisers."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from routing.schema import ConfigError
from routing.rules import RuleInput, evaluate, load_rules

TUESDAY_9_UTC = datetime(2025, 3, 4, 9, 0, tzinfo=timezone.utc)  # 10:00 in Prague


def item(**fields) -> RuleInput:
    fields.setdefault("channel", "email")
    fields.setdefault("at", TUESDAY_9_UTC)
    return RuleInput(**fields)


def rule(name: str = "r", stop: bool = False, then: dict | None = None, **match) -> dict:
    return {"name": name, "match": match, "then": then or {"tags": [name]}, "stop": stop}


def matches(spec: dict, message: RuleInput) -> bool:
    return evaluate(load_rules([spec]), message).matched == [spec["name"]]


def problems(data, loader=load_rules) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        loader(data)
    return caught.value.problems


RAISERS = {"keywords": {"urgent": ["outage", "not working"], "high": ["refund", "c++"]},
           "vip_tags": ["vip"], "vip_senders": ["*@bigcorp.com"]}
