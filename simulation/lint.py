"""``simulation lint``: find configuration mistakes before a routing config is activated.

Findings have a severity (error: tickets would wait forever or the config contradicts itself;
warning: likely a mistake; info: worth knowing), a code, where it is and a message:

- ``unsatisfiable`` (error): no agent could ever take a rule's tickets on a channel, at any rung
  of its ladder (skills/levels, department, capacity on the channel, channel weight vs total);
  ``waits_for_ladder`` (warning): nobody matches the initial requirement, only a later rung.
- ``no_capacity_on_channel`` (error): rules route to a channel where no agent has capacity.
- ``channel_unreachable`` (warning): an agent's capacity on a channel can never be used, because
  one ticket of it outweighs the total; ``channel_capacity_over_total`` (info): the channel's
  weighted capacity alone exceeds the total, so the total is what limits.
- ``unreachable_step`` (warning): a rung after park/escalate; ``step_after_sla`` (warning): the
  rung starts (unscaled) after the rule's SLA target; ``no_effect`` (warning): a rung that
  changes nothing; ``widen_without_department`` / ``unknown_department`` (error).
- ``unknown_channel_weight`` (warning): a rule's channel has no weight (1 is used).
"""
from __future__ import annotations

from dataclasses import dataclass

from routing.index import AgentIndex
from routing.ladder import effective_requirement
from routing.model import TERMINAL_ACTIONS, Request
from simulation.config_input import RoutingInput, SimRuleIn


@dataclass(frozen=True)
class Finding:
    severity: str
    code: str
    where: str
    message: str

    def as_dict(self) -> dict:
        return {"severity": self.severity, "code": self.code, "where": self.where,
                "message": self.message}

    def __str__(self) -> str:
        return f"{self.severity:7s} {self.code:28s} {self.where}: {self.message}"


def lint(config: RoutingInput) -> list[Finding]:
    """Every finding, errors first."""
    policy = config.make_policy()
    index = AgentIndex(policy)
    for agent in config.make_agents():
        index.add(agent)
    findings = _agents(config, policy) + _ladders(config)
    findings += _channels(config, index, policy)
    for rule in config.rules:
        findings += _rule(config, rule, index, policy)
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: (order[f.severity], f.where, f.code))


def _agents(config: RoutingInput, policy) -> list[Finding]:
    out = []
    for agent in config.agents:
        weighted = 0.0
        for channel, capacity in sorted(agent.capacity.items()):
            weight = policy.weight(channel)
            weighted += capacity * weight
            if capacity and weight > agent.total:
                out.append(Finding("warning", "channel_unreachable", f"agents.{agent.id}",
                                   f"one {channel} ticket weighs {weight:g} > total "
                                   f"{agent.total:g}: capacity {capacity} is never usable"))
            elif capacity * weight > agent.total:
                out.append(Finding("info", "channel_capacity_over_total", f"agents.{agent.id}",
                                   f"{channel}: {capacity} x {weight:g} > total {agent.total:g}"))
    return out


def _channels(config: RoutingInput, index: AgentIndex, policy) -> list[Finding]:
    out = []
    routed = sorted({channel for rule in config.rules for channel in rule.channels})
    for channel in routed:
        if channel not in policy.channel_weights:
            out.append(Finding("warning", "unknown_channel_weight", "policy.channel_weights",
                               f"rules route to {channel!r}, which has no weight (1 is used)"))
        if not _serving(index, channel):
            out.append(Finding("error", "no_capacity_on_channel", f"channels.{channel}",
                               f"rules route to {channel} but no agent has capacity there"))
    return out


def _serving(index: AgentIndex, channel: str) -> set[str]:
    weight = index.policy.weight(channel)
    return {a.id for a in index.agents.values()
            if a.capacity.get(channel, 0) > 0 and weight <= a.total}


def _rule(config: RoutingInput, rule: SimRuleIn, index: AgentIndex, policy) -> list[Finding]:
    out = []
    ladder = config.ladder_of(rule)
    request = Request("lint", rule.channels[0], dict(rule.required), dict(rule.preferred),
                      rule.priority, department=rule.department, ladder=ladder)
    rungs = _reachable_rungs(ladder)
    for step in ladder[:rungs]:
        if step.action == "widen":
            department = step.department or rule.department
            if department is None:
                out.append(Finding("error", "widen_without_department", f"rules.{rule.name}",
                                   "a widen rung has no department and neither has the rule"))
            elif not any(department in a.departments for a in config.agents):
                out.append(Finding("error", "unknown_department", f"rules.{rule.name}",
                                   f"no agent belongs to department {department!r}"))
    for channel in rule.channels:
        serving = _serving(index, channel)
        first = None
        for rung in range(rungs + 1):
            request.step = rung
            if index.qualified(effective_requirement(request)) & serving:
                first = rung
                break
        where = f"rules.{rule.name}.{channel}"
        if first is None:
            out.append(Finding("error", "unsatisfiable", where,
                               f"no agent can take these tickets at any rung (requirement "
                               f"{_requirement(request)}, channel capacity and weight included)"))
        elif first > 0:
            out.append(Finding("warning", "waits_for_ladder", where,
                               f"nobody matches before rung {first} ({ladder[first - 1].action})"))
    return out


def _requirement(request: Request) -> dict:
    request.step = 0
    return effective_requirement(request)


def _reachable_rungs(ladder) -> int:
    """How many rungs can apply: everything up to and including the first park/escalate."""
    for position, step in enumerate(ladder):
        if step.action in TERMINAL_ACTIONS:
            return position + 1
    return len(ladder)


def _ladders(config: RoutingInput) -> list[Finding]:
    out = []
    used = {rule.ladder for rule in config.rules if isinstance(rule.ladder, str)}
    for rule in config.rules:
        ladder = config.ladder_of(rule)
        where = f"rules.{rule.name}.ladder"
        reachable = _reachable_rungs(ladder)
        for position, step in enumerate(ladder[reachable:], start=reachable + 1):
            out.append(Finding("warning", "unreachable_step", where,
                               f"rung {position} ({step.action}) follows "
                               f"{ladder[reachable - 1].action} and never applies"))
        target = config.sla_target(rule)
        elapsed = 0.0
        for position, step in enumerate(ladder[:reachable], start=1):
            elapsed += step.after_s
            if target is not None and elapsed > target:
                out.append(Finding("warning", "step_after_sla", where,
                                   f"rung {position} ({step.action}) starts after {elapsed:g} s, "
                                   f"beyond the SLA target of {target:g} s (it only applies "
                                   f"because rungs shrink as the due time nears)"))
            out += _no_effect(rule, step, position, where)
    for name in sorted(set(config.ladders) - used):
        out.append(Finding("info", "unused_ladder", f"ladders.{name}", "no rule uses it"))
    return out


def _no_effect(rule: SimRuleIn, step, position: int, where: str) -> list[Finding]:
    idle = (step.action == "drop_preferred" and not rule.preferred) or (
        step.action == "lower_levels" and all(level == 1 for level in rule.required.values()))
    if not idle:
        return []
    return [Finding("warning", "no_effect", where,
                    f"rung {position} ({step.action}) changes nothing for this rule")]
