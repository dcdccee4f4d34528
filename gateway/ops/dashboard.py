"""The ops dashboard at ``/ops``: queues, workers, failed jobs, quarantine, IMAP mailboxes, SLA
breaches and routing charts on one server-rendered page (Jinja, no build step), with replay
buttons, behind ``OPS_TOKEN`` (``gateway.ops.dashboard_auth``). RQ's own pages (rq-dashboard)
are mounted at ``/ops/rq`` behind the same login (``gateway.ops.rq_pages``).

Replays reuse ``queues.replay``: a failed job goes back on its queue, a quarantine entry's
envelope back on its channel queue (idempotent processing makes a second replay harmless).
Each action answers with a redirect to the page (303) and a notice naming what was done.
"""
from __future__ import annotations

import io

from flask import Blueprint, Flask, g, redirect, render_template, request, url_for
from redis.exceptions import RedisError
from rq.exceptions import InvalidJobOperation, NoSuchJobError

from gateway.ops import charts, dashboard_auth as auth, dashboard_data, dashboard_store, rq_pages
from gateway.app_runtime import runtime
from queues import ratelimit
from queues.replay import QUEUES, NotReplayable, replay_entry, requeue_failed, requeue_job
from store.models import QuarantineEntry, utcnow

bp = Blueprint("ops", __name__, url_prefix="/ops", template_folder="templates",
               static_folder="static")
REFRESH_S = 30  # seconds between automatic reloads while the box is ticked
MAX_JOB_ID = 100  # characters of an RQ job id accepted in a URL
NOTICES = {  # ?notice= -> what the page says after an action ({n}: ?count=)
    "job_requeued": "The failed job is queued again.",
    "job_gone": "That job is no longer in the failed registry (replayed already?).",
    "queue_requeued": "{n} failed job(s) queued again.",
    "entry_replayed": "The quarantine entry is queued again.",
    "entry_refused": "That entry has no envelope a channel queue could process.",
    "entry_gone": "That quarantine entry does not exist.",
    "reason_replayed": "{n} quarantine entr(y/ies) queued again.",
    "logged_out": "You are logged out.",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'",
    "Cache-Control": "no-store", "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
}


def init_app(app: Flask) -> None:
    """Register the dashboard and the rq-dashboard pages under ``/ops``."""
    app.register_blueprint(bp)
    app.add_template_filter(charts.duration, "duration")
    rq_pages.init_app(app)


@bp.before_request
def _guard():
    if request.endpoint in ("ops.login", "ops.static"):
        auth.require_enabled()
        return None
    return auth.require_login(forms_carry_csrf=True)


@bp.after_request
def _headers(response):
    response.headers.update(SECURITY_HEADERS)
    return response


@bp.get("")
@bp.get("/")
def dashboard():
    board = dashboard_data.collect(runtime(), utcnow())
    notice = NOTICES.get(request.args.get("notice", ""), "")
    count = request.args.get("count", "")
    return render_template("ops/dashboard.html", board=board, refresh_s=REFRESH_S,
                           notice=notice.format(n=int(count) if count.isdigit() else 0),
                           csrf=g.ops_csrf, queues=QUEUES)


@bp.route("/login", methods=["GET", "POST"])
def login():
    token, error, status = auth.require_enabled(), "", 200
    if request.method == "POST":
        auth.require_same_origin(strict=False)
        if _login_limited():
            error, status = "Too many attempts: wait a minute and try again.", 429
        elif auth.token_matches(request.form.get("token", ""), token):
            response = redirect(url_for("ops.dashboard"), 303)
            auth.set_session_cookie(response, auth.new_session(token))
            return response
        else:
            error, status = "That is not the ops token.", 401
    notice = NOTICES.get(request.args.get("notice", ""), "")
    return render_template("ops/login.html", error=error, notice=notice), status


def _login_limited() -> bool:
    key = f"ops-login:{request.remote_addr}"
    try:
        return ratelimit.hit(runtime().redis, key, auth.LOGIN_ATTEMPTS, 60) > 0
    except RedisError:
        return False  # the token check itself still holds


@bp.post("/logout")
def logout():
    response = redirect(url_for("ops.login", notice="logged_out"), 303)
    auth.clear_session_cookie(response)
    return response


@bp.post("/failed/<queue>/<job_id>/replay")
def replay_failed_job(queue: str, job_id: str):
    if queue not in QUEUES or len(job_id) > MAX_JOB_ID:
        return _back("job_gone", "failed")
    try:
        requeue_job(runtime().redis, queue, job_id)
    except (NoSuchJobError, InvalidJobOperation):
        return _back("job_gone", "failed")
    return _back("job_requeued", "failed")


@bp.post("/failed/<queue>/replay")
def replay_failed_queue(queue: str):
    if queue not in QUEUES:
        return _back("job_gone", "failed")
    count = requeue_failed(runtime().redis, [queue], io.StringIO())
    return _back("queue_requeued", "failed", count)


@bp.post("/quarantine/<int:entry_id>/replay")
def replay_quarantined(entry_id: int):
    rt = runtime()
    with rt.sessions.begin() as session:
        entry = session.get(QuarantineEntry, entry_id)
        if entry is None:
            return _back("entry_gone", "quarantine")
        try:
            replay_entry(rt, session, entry)
        except NotReplayable:
            return _back("entry_refused", "quarantine")
    return _back("entry_replayed", "quarantine")


@bp.post("/quarantine/replay")
def replay_reason():
    rt, done = runtime(), 0
    with rt.read_sessions() as session:
        ids = dashboard_store.pending_ids(session, request.form.get("reason", "")[:40])
    for entry_id in ids:  # one transaction each, as python -m queues.replay does
        with rt.sessions.begin() as session:
            entry = session.get(QuarantineEntry, entry_id)
            try:
                if entry is not None and entry.replayed_at is None:
                    replay_entry(rt, session, entry)
                    done += 1
            except NotReplayable:
                continue
    return _back("reason_replayed", "quarantine", done)


def _back(notice: str, anchor: str, count: int | None = None):
    args = {"notice": notice, **({"count": count} if count is not None else {})}
    target = url_for("ops.dashboard", **args) + (f"#{anchor}" if anchor else "")
    return redirect(target, 303)
