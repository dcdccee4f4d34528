"""simulation lint: each finding on a config made to trigger it, and a clean config."""
from __future__ import annotations

import json
from pathlib import Path

from simulation.__main__ import main
from simulation.config_input import parse
from simulation.lint import lint

AGENT = {"id": "a1", "skills": {"en": 3, "tax": 2}, "departments": ["general"],
         "capacity": {"email": 5, "chat": 2}, "total": 10}
RULE = {"name": "r1", "channels": ["email"], "required": {"en": 3}}
EXAMPLE = Path(__file__).parent / "fixtures" / "example.yaml"


def findings(**parts):
    data = {"agents": [AGENT], "rules": [RULE], **parts}
    return {(f.code, f.where) for f in lint(parse(data))}


def test_clean_config_has_no_findings():
    assert findings() == set()


def test_unsatisfiable_skill_level_and_missing_skill():
    found = findings(rules=[{"name": "hi", "channels": ["email"], "required": {"en": 4}},
                            {"name": "fr", "channels": ["email"], "required": {"fr": 1}}])
    assert ("unsatisfiable", "rules.hi.email") in found
    assert ("unsatisfiable", "rules.fr.email") in found


def test_unsatisfiable_only_now_but_reachable_by_the_ladder_is_a_warning():
    rule = {"name": "r", "channels": ["email"], "required": {"en": 4},
            "ladder": [{"action": "lower_levels", "after_s": 60}]}
    assert ("waits_for_ladder", "rules.r.email") in findings(rules=[rule])


def test_channel_without_capacity():
    found = findings(rules=[{"name": "t", "channels": ["telegram"], "required": {}}])
    assert ("no_capacity_on_channel", "channels.telegram") in found
    assert ("unsatisfiable", "rules.t.telegram") in found
    assert ("unknown_channel_weight", "policy.channel_weights") not in found


def test_capacity_overflows():
    heavy = {**AGENT, "id": "a2", "capacity": {"chat": 5, "email": 1}, "total": 2}
    found = findings(agents=[AGENT, heavy])
    assert ("channel_unreachable", "agents.a2") in found  # one chat weighs 3 > 2


def test_capacity_over_total_is_info():
    big = {**AGENT, "capacity": {"email": 20}, "total": 10}
    result = lint(parse({"agents": [big], "rules": [RULE]}))
    assert [(f.severity, f.code) for f in result] == [("info", "channel_capacity_over_total")]


def test_unreachable_and_late_and_idle_ladder_steps():
    ladder = [{"action": "drop_preferred", "after_s": 10},
              {"action": "lower_levels", "after_s": 4000},
              {"action": "park", "after_s": 10},
              {"action": "lower_levels", "after_s": 10}]
    rule = {**RULE, "ladder": ladder, "priority": "medium"}  # SLA 3600 s
    found = findings(rules=[rule])
    assert ("unreachable_step", "rules.r1.ladder") in found
    assert ("step_after_sla", "rules.r1.ladder") in found
    assert ("no_effect", "rules.r1.ladder") in found  # drop_preferred without preferred


def test_widen_needs_a_known_department():
    ladder = [{"action": "widen", "after_s": 10}]
    assert ("widen_without_department", "rules.r1") in findings(rules=[{**RULE,
                                                                         "ladder": ladder}])
    ladder = [{"action": "widen", "after_s": 10, "department": "nobody"}]
    assert ("unknown_department", "rules.r1") in findings(rules=[{**RULE, "ladder": ladder}])


def test_unused_ladder_is_info():
    assert ("unused_ladder", "ladders.spare") in findings(
        ladders={"spare": [{"action": "park", "after_s": 1}]})


def test_cli_exit_codes_and_json(tmp_path, capsys):
    assert main(["lint", "--config", str(EXAMPLE)]) == 0
    assert "0 errors" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"agents": [AGENT], "rules": [{**RULE, "required": {"x": 1}}]}))
    assert main(["lint", "--config", str(bad), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert {"severity": "error", "code": "unsatisfiable", "where": "rules.r1.email"} == {
        k: out[0][k] for k in ("severity", "code", "where")}


def test_cli_reports_invalid_input(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("agents: [{id: a, total: 1, skills: {x: 7}}]\nrules: [{name: r}]\n")
    assert main(["lint", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "agents.0.skills" in err and "rules.0.channels" in err
