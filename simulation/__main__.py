"""Command line: ``python -m simulation simulate ...`` and ``python -m simulation lint ...``.

    python -m simulation simulate --config current.yaml [--candidate new.yaml]
        [--workspace SLUG] [--date YYYY-MM-DD] [--tickets N] [--agents M] [--seed S]
        [--day recorded.jsonl] [--decline-rate R] [--share RULE=WEIGHT ...] --out DIR
    python -m simulation lint --config routing.yaml [--workspace SLUG] [--date YYYY-MM-DD]
        [--json]

``--config`` and ``--candidate`` take the native input (simulation/config_input.py) or a
workspace file (top-level ``workspaces:``); of the latter, the routing block of ``--workspace``
(needed when several workspaces have one) as it would be on ``--date`` (calendars; default: the
next Monday), see simulation/workspace_input.py. Invalid input: "error: path: message" lines,
exit 2.

``--share`` sets a rule's share of the generated traffic (a workspace file's rules all get 1,
since which messages a rule matches cannot be generated; ``(unmatched)`` is the rest).
``simulate`` writes DIR/summary.json (current, candidate, difference), DIR/report.html (charts,
inline SVG) and DIR/day.jsonl (the day that was replayed), and prints the headline numbers.
``lint`` prints one finding per line and exits 1 when there is an error.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

from routing.schema import ConfigError
from simulation.chart import render
from simulation.config_input import RoutingInput
from simulation.day import generate, read, write
from simulation.lint import lint
from simulation.report import compare
from simulation.simulate import simulate
from simulation.workspace_input import load


def scale_agents(config: RoutingInput, count: int) -> RoutingInput:
    """The config with ``count`` agents, cycling through its own agents (ids suffixed)."""
    if not config.agents:
        raise ConfigError(["agents: --agents needs at least one agent to copy"])
    agents = [config.agents[n % len(config.agents)].model_copy(
        update={"id": f"{config.agents[n % len(config.agents)].id}-{n}"}) for n in range(count)]
    return config.model_copy(update={"agents": agents})


def with_shares(config: RoutingInput, shares: list[tuple[str, float]]) -> RoutingInput:
    """The config with the named rules' ``share`` of generated traffic replaced."""
    names = {rule.name for rule in config.rules}
    unknown = [name for name, _ in shares if name not in names]
    if unknown:
        raise ConfigError([f"--share: no rule named {name!r} (rules: {', '.join(sorted(names))})"
                           for name in unknown])
    weights = dict(shares)
    rules = [rule.model_copy(update={"share": weights.get(rule.name, rule.share)})
             for rule in config.rules]
    return config.model_copy(update={"rules": rules})


def _simulate(args: argparse.Namespace) -> int:
    current = with_shares(_load(args.config, args), args.share)
    candidate = with_shares(_load(args.candidate, args), args.share) if args.candidate else None
    if args.agents:
        current = scale_agents(current, args.agents)
        candidate = scale_agents(candidate, args.agents) if candidate else None
    day = (read(args.day, current, args.seed) if args.day
           else generate(current, args.tickets, args.seed))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, config in (("current", current), ("candidate", candidate)):
        if config is None:
            continue
        started = time.perf_counter()
        results[name] = simulate(config, day, args.seed, args.decline_rate)
        results[name]["wall_s"] = round(time.perf_counter() - started, 2)
        _print(name, results[name])
    report = dict(results)
    if candidate is not None:
        report["difference"] = compare(results["current"], results["candidate"])
        print("difference (candidate - current):", json.dumps(report["difference"]))
    (out / "summary.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (out / "report.html").write_text(render(results), encoding="utf-8")
    write(day, out / "day.jsonl")
    print(f"wrote {out / 'summary.json'}, {out / 'report.html'}, {out / 'day.jsonl'}")
    return 0


def _print(name: str, result: dict) -> None:
    wait = result["wait_s"]
    fmt = (lambda v: "-" if v is None else f"{v:.0f}")
    print(f"{name}: {result['tickets']} tickets in {result['wall_s']} s, "
          f"unassigned {result['unassigned']}, SLA {result['sla_attainment_all']:.1%} "
          f"{json.dumps(result['sla_attainment'])}, wait p50/p90/p99 "
          f"{fmt(wait['p50'])}/{fmt(wait['p90'])}/{fmt(wait['p99'])} s, "
          f"fairness min {result['fairness_min']}, occupancy {result['occupancy']}")


def _load(path: str, args: argparse.Namespace) -> RoutingInput:
    return load(path, args.workspace, args.date)


def _lint(args: argparse.Namespace) -> int:
    findings = lint(_load(args.config, args))
    if args.json:
        print(json.dumps([f.as_dict() for f in findings], indent=2))
    else:
        for finding in findings:
            print(finding)
        errors = sum(f.severity == "error" for f in findings)
        print(f"{len(findings)} findings, {errors} errors")
    return 1 if any(f.severity == "error" for f in findings) else 0


def _workspace_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workspace", metavar="SLUG",
                        help="workspace files: the workspace whose routing block to use")
    parser.add_argument("--date", type=_date, metavar="YYYY-MM-DD",
                        help="workspace files: the day whose calendars give the agents' shifts "
                             "(default: the next Monday)")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-03-02") from None


def _share(text: str) -> tuple[str, float]:
    name, _, weight = text.rpartition("=")
    try:
        value = float(weight)
    except ValueError:
        value = -1.0
    if not name or not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not RULE=WEIGHT with a weight >= 0")
    return name, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulation", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser("simulate", help="replay a day through the router")
    sim.add_argument("--config", required=True,
                     help="current config: native input or workspace file (YAML or JSON)")
    sim.add_argument("--candidate", help="candidate config to compare with the current one")
    _workspace_options(sim)
    sim.add_argument("--tickets", type=int, help="generated day: number of tickets")
    sim.add_argument("--agents", type=int, help="use this many agents (copies of the config's)")
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--day", help="recorded day (JSON lines) instead of a generated one")
    sim.add_argument("--decline-rate", type=float, default=0.0,
                     help="share of offers the simulated agents decline")
    sim.add_argument("--share", type=_share, action="append", default=[], metavar="RULE=WEIGHT",
                     help="a rule's share of the generated traffic (repeatable)")
    sim.add_argument("--out", required=True, help="directory for summary.json and report.html")
    check = commands.add_parser("lint", help="check a routing config")
    check.add_argument("--config", required=True,
                       help="native input or workspace file (YAML or JSON)")
    _workspace_options(check)
    check.add_argument("--json", action="store_true", help="findings as JSON")
    args = parser.parse_args(argv)
    try:
        return _simulate(args) if args.command == "simulate" else _lint(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
