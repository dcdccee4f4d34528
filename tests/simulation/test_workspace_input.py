"""A workspace's routing block as simulate/lint input: conversion, workspace choice, CLI."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from routing.schema import ConfigError
from simulation.__main__ import main
from simulation.lint import lint
from simulation.workspace_input import (UNMATCHED, convert, load, next_monday, pick_workspace,
                                     validate_routing)

TICKETGATE = Path(__file__).parents[2] / "config" / "ticketgate.yaml"
MONDAY, TUESDAY, HOLIDAY = date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 9)
OFFICE = {"timezone": "Europe/Prague", "holidays": [HOLIDAY.isoformat()],
          "hours": {"mon": ["09:00-12:00", "13:00-17:00"], "wed": ["08:00-16:00"]}}
NEW_YORK = {"timezone": "America/New_York", "hours": {"mon": ["09:00-17:00"]}}
SLA = {"default": {"urgent": {"first_response": "30m"}, "medium": {"first_response": "4h"},
                   "calendar": "office"},
       "fast": {"high": {"first_response": "1h30m"}}}
LADDERS = {"std": [{"action": "drop_preferred", "after_s": 60}],
           "vip": [{"action": "escalate", "after_s": 30}]}


def routing_block(**parts) -> dict:
    block = {
        "calendars": {"office": OFFICE, "ny": NEW_YORK},
        "agents": [
            {"id": "jana", "skills": {"billing": 3, "vat": 1}, "capacity": {"email": 10, "form": 5, "chat": 3},
             "calendar": "office", "status": "online", "departments": ["finance"]},
            {"id": "tom", "capacity": {"email": 4, "telegram": 1}, "total": 6,
             "calendar": "ny", "status": "online"},
            {"id": "eva", "capacity": {"email": 2, "form": 2, "chat": 1, "telegram": 1},
             "status": "online"},
            {"id": "max", "capacity": {"email": 2}, "calendar": "office", "status": "away"},
        ],
        "rules": [
            {"name": "billing", "match": {"channels": ["email", "form"], "subject": "invoice"},
             "then": {"required": {"billing": 2}, "preferred": {"vat": 1.5},
                      "priority": "high", "department": "finance", "sla": "fast"}},
            {"name": "outage", "match": {"text": "outage"},
             "then": {"priority": "urgent", "ladder": "vip"}},
            {"name": "junk", "match": {"senders": ["*@spam.test"]}, "then": {"status": "spam"}},
        ],
        "ladders": LADDERS, "default_ladder": "std", "sla": SLA}
    return {**block, **parts}


def converted(day: date = MONDAY, **parts):
    return convert(validate_routing(routing_block(**parts), "routing"), day)


def by_id(config) -> dict:
    return {agent.id: agent for agent in config.agents}


def rules_by_name(config) -> dict:
    return {rule.name: rule for rule in config.rules}


def workspace_file(tmp_path: Path, *workspaces: dict) -> Path:
    path = tmp_path / "ticketgate.yaml"
    path.write_text(yaml.safe_dump({"workspaces": list(workspaces)}), encoding="utf-8")
    return path


def test_total_zero_becomes_the_weighted_channel_capacity():
    agents = by_id(converted())
    assert agents["jana"].total == 10 * 1 + 5 * 1 + 3 * 3  # email and form weigh 1, chat 3
    assert agents["tom"].total == 6  # an explicit total stays
    weighted = by_id(converted(policy={"channel_weights": {"chat": 2}}))
    assert weighted["jana"].total == 10 + 5 + 3 * 2  # a channel without a weight counts 1


def test_shift_from_the_calendar_on_the_chosen_day():
    agents = by_id(converted(MONDAY))
    assert (agents["jana"].status, agents["jana"].shift) == ("online", (9, 17))  # lunch kept
    # New York 09:00-17:00 EST is 15:00-23:00 in Prague, the default SLA calendar's zone
    assert (agents["tom"].status, agents["tom"].shift) == ("online", (15, 23))
    assert (agents["eva"].status, agents["eva"].shift) == ("online", (0, 24))  # no calendar
    assert (agents["max"].status, agents["max"].shift) == ("away", (0, 24))  # as configured


def test_closed_day_and_holiday_make_the_agent_offline():
    for day in (TUESDAY, HOLIDAY):
        agents = by_id(converted(day))
        assert (agents["jana"].status, agents["jana"].shift) == ("offline", (0, 24)), day
        assert agents["eva"].status == "online"
    assert by_id(converted(date(2026, 3, 4)))["jana"].shift == (8, 16)  # Wednesday


def test_without_an_sla_calendar_the_first_calendar_sets_the_clock():
    sla = {**SLA, "default": {"medium": {"first_response": "4h"}}}
    agents = by_id(converted(sla=sla, calendars={"ny": NEW_YORK, "office": OFFICE}))
    assert agents["tom"].shift == (9, 17)
    assert agents["jana"].shift == (3, 11)  # Prague 09:00-17:00 in New York


def test_sla_seconds_per_priority_and_per_rule_policy():
    config = converted()
    assert config.sla == {"urgent": 1800, "medium": 14400}
    rules = rules_by_name(config)
    assert rules["billing"].sla_s == 5400  # the rule's own policy "fast", priority high
    assert rules["outage"].sla_s == 1800  # the default policy, urgent
    assert config.sla_target(rules[UNMATCHED]) == 14400
    assert converted(sla={}, rules=[]).sla == {}


def test_rules_carry_then_and_the_default_ladder():
    rules = rules_by_name(converted())
    billing = rules["billing"]
    assert (billing.channels, billing.required, billing.preferred, billing.priority,
            billing.department, billing.ladder, billing.share) == (
        ["email", "form"], {"billing": 2}, {"vat": 1.5}, "high", "finance", "std", 1)
    assert rules["outage"].ladder == "vip"
    assert sorted(rules["outage"].channels) == ["chat", "email", "form", "telegram"]
    assert "junk" not in rules  # spam is never routed
    assert rules_by_name(converted(default_ladder=None))["billing"].ladder is None


def test_catch_all_rule_unless_a_rule_matches_everything():
    catch_all = rules_by_name(converted())[UNMATCHED]
    assert (sorted(catch_all.channels), catch_all.required, catch_all.priority,
            catch_all.ladder) == (["chat", "email", "form", "telegram"], {}, "medium", "std")
    everything = {"name": "all", "match": {"channels": ["email", "form", "chat", "telegram"]},
                  "then": {"required": {"billing": 1}}}
    assert UNMATCHED not in rules_by_name(converted(rules=[everything]))
    named = {"name": UNMATCHED, "match": {"subject": "x"}, "then": {}}
    assert [r.name for r in converted(rules=[named]).rules] == [UNMATCHED, UNMATCHED + "'"]


def test_next_monday():
    assert next_monday(date(2026, 3, 4)) == MONDAY + (HOLIDAY - MONDAY)
    assert next_monday(MONDAY) == HOLIDAY  # a Monday: the one after it


def test_validation_errors_name_the_path_in_the_workspace_file(tmp_path):
    bad = routing_block(agents=[{"id": "x", "calendar": "nope", "skills": {"a": 9}}])
    path = workspace_file(tmp_path, {"slug": "one", "routing": {"agents": bad["agents"]}})
    with pytest.raises(ConfigError) as raised:
        load(path)
    assert raised.value.problems == ["workspaces.0.routing.agents.0.skills: Value error, "
                                     "level of 'a' must be 1-5, not 9"]
    path = workspace_file(tmp_path, {"slug": "one", "routing": {"agents": [
        {"id": "x", "calendar": "nope"}], "default_ladder": "gone"}})
    with pytest.raises(ConfigError) as raised:
        load(path)
    assert raised.value.problems == [
        "workspaces.0.routing.agents.x.calendar: unknown calendar 'nope'",
        "workspaces.0.routing.default_ladder: unknown ladder 'gone'"]


def test_workspace_choice_errors():
    two = [{"slug": "a", "routing": {}}, {"slug": "b"}, {"slug": "c", "routing": {}}]
    with pytest.raises(ConfigError, match=r"has 2 workspaces with a routing block \(a, c\)"):
        pick_workspace(two, "f.yaml", None)
    with pytest.raises(ConfigError, match=r"no workspace 'z' in f.yaml; its workspaces: a, b, c"):
        pick_workspace(two, "f.yaml", "z")
    with pytest.raises(ConfigError, match=r"workspaces.1.routing: workspace 'b' has no routing"):
        pick_workspace(two, "f.yaml", "b")
    assert pick_workspace(two, "f.yaml", "c") == (2, {})
    assert pick_workspace(two[:2], "f.yaml", None) == (0, {})
    with pytest.raises(ConfigError, match="must be a list"):
        pick_workspace({"slug": "a"}, "f.yaml", None)


def test_cli_ambiguous_file_and_unknown_slug_exit_2(tmp_path, capsys):
    path = workspace_file(tmp_path, {"slug": "a", "routing": routing_block()},
                          {"slug": "b", "routing": routing_block()})
    assert main(["lint", "--config", str(path)]) == 2
    assert "choose one with --workspace SLUG" in capsys.readouterr().err
    assert main(["lint", "--config", str(path), "--workspace", "zz"]) == 2
    assert "its workspaces: a, b" in capsys.readouterr().err
    assert main(["lint", "--config", str(path), "--workspace", "b", "--date", "2026-03-02"]) == 0


def test_lint_on_a_workspace_file_flags_an_unsatisfiable_rule(tmp_path, capsys):
    rules = [*routing_block()["rules"],
             {"name": "tax", "match": {"channels": ["email"]}, "then": {"required": {"tax": 4}}}]
    path = workspace_file(tmp_path, {"slug": "other", "api_keys": [{"env": "UNSET_KEY_VAR"}]},
                          {"slug": "acme", "routing": routing_block(rules=rules)})
    assert main(["lint", "--config", str(path), "--json", "--date", "2026-03-02"]) == 1
    found = {(f["severity"], f["code"], f["where"]) for f in json.loads(capsys.readouterr().out)}
    assert ("error", "unsatisfiable", "rules.tax.email") in found
    assert not any(where.startswith("rules.billing") for _, _, where in found)
    clean = lint(load(path, "acme", MONDAY))
    assert {f.where for f in clean if f.severity == "error"} == {"rules.tax.email"}


def test_simulate_the_demo_workspace(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["simulate", "--config", str(TICKETGATE), "--workspace", "demo",
                 "--tickets", "200", "--date", "2026-03-02", "--out", str(out)]) == 0
    current = json.loads((out / "summary.json").read_text())["current"]
    assert current["tickets"] == 200
    assert 0 <= current["unassigned"] <= 200
    assert 0 < current["sla_attainment_all"] <= 1
    assert set(current["sla_attainment"]) == {"medium"}  # the rules set no priority
    assert 0 <= current["wait_s"]["p50"] <= current["wait_s"]["p90"]
    assert 0 < current["occupancy"] < 1
    day = (out / "day.jsonl").read_text()
    assert '"rule": "billing"' in day and f'"rule": "{UNMATCHED}"' in day
    assert "current: 200 tickets" in capsys.readouterr().out


def test_share_sets_the_traffic_mix_of_the_workspace_rules(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["simulate", "--config", str(TICKETGATE), "--workspace", "demo", "--tickets",
                 "300", "--share", "billing=0", "--share", f"{UNMATCHED}=2", "--out",
                 str(out)]) == 0
    day = (out / "day.jsonl").read_text()
    assert '"rule": "billing"' not in day and f'"rule": "{UNMATCHED}"' in day
    assert main(["simulate", "--config", str(TICKETGATE), "--workspace", "demo",
                 "--share", "nosuch=1", "--out", str(out)]) == 2
    assert "no rule named 'nosuch'" in capsys.readouterr().err


def test_native_input_still_loads_and_ignores_workspace_options():
    example = Path(__file__).parent / "fixtures" / "example.yaml"
    assert len(load(example, "demo", MONDAY).agents) == 4
