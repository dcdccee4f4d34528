"""Relaxation ladders: the effective requirement of a request at its current rung, and when the
next rung applies.

The wait before rung ``i`` is ``ladder[i].after_s`` scaled by the share of the SLA window still
left when the previous rung began: ``(sla_due - now) / (sla_due - created)`` clamped to [0, 1]
(1 without an SLA due time). So a ticket that is already late climbs the whole ladder at once.
A ``park`` or ``escalate`` rung ends the ladder: later rungs are unreachable.
"""
from __future__ import annotations

from routing.model import (PRIORITIES, PRIORITY_RANK, TERMINAL_ACTIONS, Request, Step,
                           department_skill)


def effective_requirement(request: Request) -> dict[str, int]:
    """Required skill -> minimum level after the rungs applied so far."""
    applied = request.ladder[:request.step]
    required = dict(request.required)
    if _strict_preferred(request.ladder, applied):
        for name in request.preferred:
            required.setdefault(name, 1)
    for step in applied:
        required = apply(step, required, request)
    return required


def _strict_preferred(ladder: tuple[Step, ...], applied: tuple[Step, ...]) -> bool:
    planned = any(step.action == "drop_preferred" for step in ladder)
    return planned and not any(step.action == "drop_preferred" for step in applied)


def apply(step: Step, required: dict[str, int], request: Request) -> dict[str, int]:
    """The requirement after one rung (``drop_preferred`` is handled by the strict flag)."""
    if step.action == "lower_levels":
        return {name: max(1, level - step.by) for name, level in required.items()}
    if step.action == "widen":
        department = step.department or request.department
        if department is None:
            return required
        kept = {name: level for name, level in required.items() if name in step.keep}
        kept[department_skill(department)] = 1
        return kept
    return required


def finished(request: Request) -> bool:
    """No further rung can apply (ladder exhausted or ended by park/escalate)."""
    if request.step >= len(request.ladder):
        return True
    return request.step > 0 and request.ladder[request.step - 1].action in TERMINAL_ACTIONS


def sla_factor(request: Request, now: float) -> float:
    if request.sla_due is None:
        return 1.0
    window = request.sla_due - request.created
    if window <= 0:
        return 0.0
    return min(1.0, max(0.0, (request.sla_due - now) / window))


def next_rung_at(request: Request) -> float | None:
    """When the next rung applies, counted from the current rung's start; ``None`` if none."""
    if finished(request):
        return None
    step = request.ladder[request.step]
    entered = request.step_entered
    return entered + step.after_s * sla_factor(request, entered)


def escalated_priority(step: Step, priority: str) -> str:
    if step.priority:
        return step.priority
    return PRIORITIES[min(len(PRIORITIES) - 1, PRIORITY_RANK[priority] + 1)]


def describe(request: Request) -> dict:
    """The ladder part of an explanation."""
    action = request.ladder[request.step - 1].action if request.step else None
    return {"step": request.step, "step_action": action, "steps": len(request.ladder)}
