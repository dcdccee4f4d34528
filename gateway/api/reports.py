"""Reports of the REST API (docs/api.md), under /api/v1 (``gateway.api.root``):
``GET /reports/summary`` answers the key's workspace's summary report (``tickets.reports``) as
JSON, or as CSV when the client accepts ``text/csv`` rather than JSON.

Parameters: ``from`` and ``to`` are an ISO 8601 date (a local day in ``tz``; ``to`` includes
it) or a date and time (with an offset, else local time in ``tz``); by default the last 30
days up to now. ``to`` must come after ``from`` and the range span at most ``MAX_DAYS`` days.
``tz`` is an IANA time zone name (default UTC): it places the days and weeks of
``group_by=day|week`` and the local dates and times given. Every invalid parameter is named
in a 400.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

from flask import Blueprint, Response, g, jsonify, request
from pydantic import BaseModel, Field
from sqlalchemy import select

from gateway.api.params import MAX_TEXT_PARAM
from gateway.api.spec import JSON, Reply, operation
from gateway.app_runtime import runtime
from gateway.errors import bad_request
from routing.calendar import as_utc
from store.models import Workspace, utcnow
from tickets import reports
from tickets.reports import GROUPS, HOURS, SummaryQuery

bp = Blueprint("reports", __name__)
CSV = "text/csv"
MAX_DAYS = 366
DEFAULT_DAYS = 30
ZONES = frozenset(available_timezones())


# --- the parameters and the answer as the OpenAPI document shows them -------------------------

class SummaryParams(BaseModel):
    from_: str = Field("", alias="from", max_length=MAX_TEXT_PARAM, description=(
        "start: `YYYY-MM-DD` (local midnight in `tz`) or an ISO 8601 date and time "
        f"(default: {DEFAULT_DAYS} days before `to`)"))
    to: str = Field("", max_length=MAX_TEXT_PARAM, description=(
        "end, exclusive: an ISO 8601 date and time, or `YYYY-MM-DD` (that day included); "
        f"default now; at most {MAX_DAYS} days after `from`"))
    group_by: Literal[GROUPS] = Field("day", description="one row per ...")  # type: ignore
    tz: str = Field("UTC", max_length=MAX_TEXT_PARAM,
                    description="IANA time zone name, e.g. `Europe/Prague` (default UTC)")
    hours: Literal[HOURS] = Field(  # type: ignore[valid-type]
        "calendar", description="`business`: seconds counted on the ticket's SLA calendar")


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


def wants_csv() -> bool:
    return request.accept_mimetypes.best_match([JSON, CSV], default=JSON) == CSV \
        and request.accept_mimetypes[CSV] > request.accept_mimetypes[JSON]


# --- parsing ----------------------------------------------------------------------------------

def summary_query(args) -> SummaryQuery:
    """Validate the parameters; a 400 names every invalid one."""
    errors: dict[str, str] = {}
    group_by = _choice(args, "group_by", GROUPS, errors)
    hours = _choice(args, "hours", HOURS, errors)
    tz_name = args.get("tz", "").strip() or "UTC"
    if tz_name not in ZONES:
        errors["tz"] = "must be an IANA time zone name, e.g. Europe/Prague"
        tz_name = "UTC"
    tz = ZoneInfo(tz_name)
    end = _moment(args, "to", tz, errors, end_of_day=True)
    start = _moment(args, "from", tz, errors, end_of_day=False)
    if not errors:
        end = end or utcnow()
        start = start or end - timedelta(days=DEFAULT_DAYS)
        if end <= start:
            errors["to"] = "must be after from"
        elif _local_days(start, end, tz) > MAX_DAYS:
            errors["to"] = f"the range must span at most {MAX_DAYS} days"
    if errors:
        raise bad_request(errors)
    return SummaryQuery(as_utc(start), as_utc(end), group_by, tz, tz_name, hours)


def _choice(args, name: str, allowed: tuple[str, ...], errors: dict) -> str:
    value = args.get(name, "").strip() or allowed[0]
    if value not in allowed:
        errors[name] = f"must be one of {', '.join(allowed)}"
    return value


def _moment(args, name: str, tz: ZoneInfo, errors: dict, end_of_day: bool) -> datetime | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw) + timedelta(days=1 if end_of_day else 0)
            return datetime.combine(day, time(), tz)
        moment = datetime.fromisoformat(raw)
    except (ValueError, OverflowError):
        errors[name] = "must be an ISO 8601 date (YYYY-MM-DD) or date and time"
        return None
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
    try:
        as_utc(moment).astimezone(tz)  # representable in UTC and in tz, as the query needs
    except (ValueError, OverflowError):
        errors[name] = "out of range"
        return None
    return moment


def _local_days(start: datetime, end: datetime, tz: ZoneInfo) -> float:
    """Days between the two as wall-clock time in ``tz`` (a DST change is no extra hour)."""
    span = end.astimezone(tz).replace(tzinfo=None) - start.astimezone(tz).replace(tzinfo=None)
    return span / timedelta(days=1)
