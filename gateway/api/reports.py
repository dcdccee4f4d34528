"""Reports of the REST API (docs/api.md), under /api/v1 (``gateway.api.root``), each
the key's workspace's, as JSON or as CSV when the client accepts ``text/csv`` rather than JSON:
``GET /reports/summary`` (``tickets.reports``) and ``GET /reports/agents``
(``tickets.agent_reports``). Their common parameters (range, time zone, hours) are parsed by
``gateway.api.report_range``; ``group_by`` of the summary places its days and weeks in ``tz``.
Every invalid parameter is named in a 400.
"""
from __future__ import annotations

from typing import Literal

from flask import Blueprint, Response, g, jsonify, request
from pydantic import BaseModel, Field
from sqlalchemy import select

from gateway.api.report_range import RangeParams, checked_range, choice, report_range
from gateway.api.spec import JSON, Reply, operation
from gateway.app_runtime import runtime
from gateway.errors import bad_request
from store.models import Workspace, utcnow
from tickets import agent_reports, reports
from tickets.agent_reports import AgentQuery
from tickets.reports import GROUPS, SummaryQuery

bp = Blueprint("reports", __name__)
CSV = "text/csv"


# --- the parameters and the answer as the OpenAPI document shows them -------------------------

class SummaryParams(RangeParams):
    group_by: Literal[GROUPS] = Field("day", description="one row per ...")  # type: ignore


class Stats(BaseModel):
    count: int
    p50_s: float | None = Field(description="median seconds; null without any")
    p90_s: float | None
    mean_s: float | None


class Sla(BaseModel):
    met: int = Field(description="under an SLA policy, resolved or closed, never breached")
    breached: int = Field(description="under an SLA policy, any target breached")


class SummaryRow(BaseModel):
    group: str = Field(description="local date (`day`; `week`: its Monday), channel, "
                                   "priority, agent id or tag; empty: none")
    created: int
    resolved: int
    reopened: int
    backlog: int
    first_response: Stats
    resolution: Stats
    sla: Sla


class Summary(BaseModel):
    rows: list[SummaryRow]


SUMMARY_ANSWER = Reply("The rows, one per group with tickets (CSV with `Accept: text/csv`: "
                       "one column per figure, e.g. `first_response_p50_s`)",
                       {JSON: Summary, CSV: str})


@bp.get("/reports/summary")
@operation("Summary report: volumes, first response and resolution times, SLA",
           {200: SUMMARY_ANSWER}, query=SummaryParams, errors=(400, 401, 503),
           description=reports.__doc__.split("\n\n", 1)[1].strip())
def summary():
    query = summary_query(request.args)
    with runtime().read_sessions() as session:
        workspace_id = session.scalar(select(Workspace.id).where(Workspace.slug == g.workspace))
        rows = [] if workspace_id is None else reports.summary(session, workspace_id, query)
    if wants_csv():
        return Response(reports.as_csv(rows), mimetype=CSV, headers={
            "Content-Disposition": 'attachment; filename="summary.csv"'})
    return jsonify({"rows": rows})


class AgentRow(BaseModel):
    agent: str = Field(description="the agent's id (another name a reply or resolution "
                                   "carries; empty: none)")
    name: str = Field(description="the agent's name; empty for a name that is no agent")
    assigned: int = Field(description="tickets handed to the agent in the range")
    resolved: int = Field(description="tickets last resolved in the range while it held them")
    handled: int = Field(description="tickets assigned or resolved")
    replies: int = Field(description="replies it sent in the range")
    first_response: Stats = Field(description="over the tickets whose first reply it sent "
                                              "in the range")
    resolution: Stats = Field(description="over the tickets it resolved in the range")
    sla: Sla = Field(description="of the tickets it resolved in the range")
    online_s: float = Field(description="seconds online in the range, up to now")
    occupancy: float | None = Field(description="time-weighted mean of load over capacity "
                                                "while online; null: never online")


class AgentsReport(BaseModel):
    rows: list[AgentRow]


AGENTS_ANSWER = Reply("One row per agent (CSV with `Accept: text/csv`: one column per figure, "
                      "e.g. `first_response_p50_s`, `occupancy`)", {JSON: AgentsReport, CSV: str})


@bp.get("/reports/agents")
@operation("Agents report: assigned, resolved, replies, response and resolution times, SLA, "
           "occupancy per agent", {200: AGENTS_ANSWER}, query=RangeParams,
           errors=(400, 401, 503),
           description=agent_reports.__doc__.split("\n\n", 1)[1].strip())
def agents():
    query = agent_query(request.args)
    rt = runtime()
    policy = rt.config.workspace(g.workspace).routing.make_policy()
    with rt.read_sessions() as session:
        workspace_id = session.scalar(select(Workspace.id).where(Workspace.slug == g.workspace))
        rows = [] if workspace_id is None else agent_reports.agents_report(
            session, workspace_id, query, policy, utcnow())
    if wants_csv():
        return Response(agent_reports.as_csv(rows), mimetype=CSV, headers={
            "Content-Disposition": 'attachment; filename="agents.csv"'})
    return jsonify({"rows": rows})


def wants_csv() -> bool:
    return request.accept_mimetypes.best_match([JSON, CSV], default=JSON) == CSV \
        and request.accept_mimetypes[CSV] > request.accept_mimetypes[JSON]


# --- parsing ----------------------------------------------------------------------------------

def summary_query(args) -> SummaryQuery:
    """Validate the parameters; a 400 names every invalid one."""
    errors: dict[str, str] = {}
    group_by = choice(args, "group_by", GROUPS, errors)
    found = report_range(args, errors)
    if errors:
        raise bad_request(errors)
    return SummaryQuery(found.start, found.end, group_by, found.tz, found.tz_name, found.hours)


def agent_query(args) -> AgentQuery:
    found = checked_range(args)
    return AgentQuery(found.start, found.end, found.tz, found.tz_name, found.hours)
