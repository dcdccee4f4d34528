"""The simulator: generated and recorded days, metrics, fairness, candidate comparison, CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from routing.fairness import jain
from simulation.__main__ import main
from simulation.config_input import load, parse
from simulation.day import Day, Presence, TicketArrival, generate, read, write
from simulation.report import spread
from simulation.simulate import simulate

EXAMPLE = Path(__file__).parent / "fixtures" / "example.yaml"


def equal_config(agents: int = 10, tickets: int = 3000, night: int = 0, **policy) -> dict:
    """Equal agents; the first ``night`` of them work all day, the others 7:00-20:00."""
    return {"policy": {"load_bands": 2, **policy},
            "agents": [{"id": f"a{n}", "skills": {"en": 3}, "capacity": {"email": 4, "chat": 2},
                        "total": 8, "shift": [0, 24] if n < night or not night else [7, 20]}
                       for n in range(agents)],
            "rules": [{"name": "all", "channels": ["email", "chat"], "required": {"en": 2}}],
            "simulation": {"tickets": tickets, "seed": 3,
                           "channel_mix": {"email": 0.9, "chat": 0.1}}}


def test_jain_and_spread():
    assert jain([1, 1, 1, 1]) == 1
    assert jain([1, 0, 0, 0]) == pytest.approx(0.25)
    bins = [0.0] * 3
    spread(bins, 1800, 9000, 2.0)
    assert bins == [3600.0, 7200.0, 3600.0]


def test_generated_day_follows_the_curve_and_is_reproducible():
    config = parse(equal_config(tickets=5000))
    day = generate(config)
    assert len(day.tickets) == 5000
    assert [a.t for a in day.tickets] == sorted(a.t for a in day.tickets)
    night = sum(1 for a in day.tickets if a.t < 5 * 3600)
    morning = sum(1 for a in day.tickets if 9 * 3600 <= a.t < 12 * 3600)
    assert morning > 5 * night
    assert [a.t for a in generate(config).tickets] == [a.t for a in day.tickets]


def test_equal_agents_are_treated_fairly_every_hour():
    config = parse(equal_config(agents=12, tickets=6000, night=2))
    result = simulate(config, generate(config))
    assert result["tickets"] == 6000 and result["unassigned"] == 0
    assert result["fairness_min"] >= 0.95
    assert 0 < result["occupancy"] < 1
    assert result["sla_attainment"]["medium"] == 1.0
    assert result["decisions"]["assign"] == 6000  # every ticket exactly once (offers accepted)


def test_understaffing_shows_in_waits_queue_and_sla():
    config = parse(equal_config(agents=1, tickets=2000))
    result = simulate(config, generate(config))
    assert result["sla_attainment_all"] < 0.9
    assert result["wait_s"]["p90"] > 600
    assert max(n for _, n in result["queue"]) > 10


def test_recorded_day_with_presence_round_trips(tmp_path):
    config = parse(equal_config(agents=2))
    day = Day([TicketArrival(10, "T1", "email", 100, rule="all"),
               TicketArrival(20, "T2", "email", 100, required={"en": 1}, priority="urgent",
                             sla_s=60)],
              [Presence(0, "a0", "offline"), Presence(0, "a1", "offline"),
               Presence(100, "a1", "online")], 3600)
    path = tmp_path / "day.jsonl"
    write(day, path)
    replayed = read(path, config)
    assert [(a.id, a.rule, a.priority) for a in replayed.tickets] == [
        ("T1", "all", "medium"), ("T2", None, "urgent")]
    result = simulate(config, replayed)
    assert result["wait_s"]["p50"] == pytest.approx(80)  # T2 waited 80 s, T1 90 s
    assert result["sla_attainment"] == {"medium": 1.0, "urgent": 0.0}


def test_bad_recorded_line_is_reported(tmp_path):
    path = tmp_path / "day.jsonl"
    path.write_text('{"t": 1, "type": "ticket"}\n')
    with pytest.raises(ValueError, match="day.jsonl:1"):
        read(path, parse(equal_config()))


def test_cli_compares_a_candidate_and_writes_the_report(tmp_path, capsys):
    current = tmp_path / "current.json"
    current.write_text(json.dumps(equal_config(agents=2, tickets=1500)))
    candidate = tmp_path / "candidate.json"
    candidate.write_text(json.dumps(equal_config(agents=4, tickets=1500)))
    out = tmp_path / "out"
    assert main(["simulate", "--config", str(current), "--candidate", str(candidate),
                 "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["difference"]["wait_s"]["p90"] < 0  # more agents, shorter waits
    assert summary["difference"]["occupancy"] < 0
    page = (out / "report.html").read_text()
    assert page.count("<svg") == 4 and "<script" not in page
    assert (out / "day.jsonl").read_text().count('"type": "ticket"') == 1500
    assert "difference (candidate - current)" in capsys.readouterr().out


def test_cli_scales_agents_and_replays_a_recorded_day(tmp_path):
    first = tmp_path / "first"
    assert main(["simulate", "--config", str(EXAMPLE), "--agents", "12", "--tickets", "300",
                 "--out", str(first)]) == 0
    again = tmp_path / "again"
    assert main(["simulate", "--config", str(EXAMPLE), "--agents", "12",
                 "--day", str(first / "day.jsonl"), "--out", str(again)]) == 0
    one = json.loads((first / "summary.json").read_text())["current"]
    two = json.loads((again / "summary.json").read_text())["current"]
    assert one["tickets"] == two["tickets"] == 300
    assert one["wait_s"] == two["wait_s"]


def test_example_config_loads():
    config = load(EXAMPLE)
    assert len(config.agents) == 4 and config.ladder_of(config.rules[0])[0].action == \
        "drop_preferred"
