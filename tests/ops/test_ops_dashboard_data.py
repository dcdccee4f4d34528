"""The ops dashboard's figures with real data put through the intake, the ingest pipeline,
routing, the REST API and the sweep (SQLite and PostgreSQL), as data and as the page shows
them; and its replay buttons, which put a failed job and quarantine entries back on their
queues (the scenario: tests/ops/scenario.py)."""
from __future__ import annotations

import re

import pytest
from rq import Queue
from sqlalchemy import select

from gateway.ops import dashboard_data
from gateway.web import create_app
from store.models import QuarantineEntry, utcnow
from tests.ops.pages import form, headings, table
from tests.ops.scenario import (BEARER, SAME_ORIGIN, TOKEN, auto_reply, configure, day_of_work,
                                fail_a_job, unknown_workspace)


@pytest.fixture
def rt(runtime):
    return configure(runtime)


@pytest.fixture
def client(rt, api_keys):
    return create_app(rt).test_client()


# --- the figures ---

def test_the_dashboard_data_after_a_day_of_work(rt, client):
    day_of_work(rt, client)
    board = dashboard_data.collect(rt, utcnow())
    assert board.problems == []
    queues = {q.name: q for q in board.queues}
    assert list(queues) == ["email", "form", "chat", "telegram", "outbound"]
    assert (queues["email"].depth, queues["email"].failed) == (4, 1)  # jobs no worker ran
    assert (queues["form"].depth, queues["outbound"].depth) == (1, 1)  # ghost; ben's reply
    assert all(not q.workers for q in board.queues)
    assert queues["email"].rate.accepted_per_min is None  # one sample: not known yet
    [failed] = board.failed
    assert (failed.queue, failed.function) == ("email", "tests.ops.scenario.failing_job")
    assert failed.error == "RuntimeError: broken on purpose"
    assert {r.reason: r.pending for r in board.quarantine} == {"automatic": 1,
                                                                "unknown_workspace": 1}
    assert board.breach_count == 1
    [breach] = board.breaches
    assert (breach.number, breach.assignee, breach.targets) == (3, "ann", ["first_response"])
    [mailbox] = board.mailboxes
    assert (mailbox["mailbox"], mailbox["backlog"], mailbox["stale"]) == ("support", 2, False)
    assert sum(w.count for w in board.waits[-2:]) == 1  # carol's ticket waited for ann
    # ann started two assignments this hour, ben one; both hold one email ticket at most
    assert board.fairness["demo"][-1] == pytest.approx((2 + 1) ** 2 / (2 * (4 + 1)))
    assert board.fairness["demo"][:-1] == [None] * 23


def test_the_page_shows_the_same_figures(rt, client):
    day_of_work(rt, client)
    page = client.get("/ops", headers=BEARER).get_data(as_text=True)
    rows = {row[0]: row[1:] for row in table(page, "Every RQ queue")}
    assert rows["email"] == ["4", "…", "…", "0", "1"]
    assert rows["outbound"] == ["1", "n/a", "…", "0", "0"]
    [job] = table(page, "The newest jobs")
    assert job[1:3] == ["email", "tests.ops.scenario.failing_job"]
    assert job[4] == "RuntimeError: broken on purpose"
    assert {"automatic (1 waiting)", "unknown_workspace (1 waiting)"} <= set(headings(page))
    [mailbox] = table(page, "Each configured mailbox")
    assert mailbox[:2] == ["support", "demo"] and mailbox[3:] == ["2 min", "2", "fresh"]
    [breach] = table(page, "Open tickets that missed")
    assert breach[0:2] == ["#3", "demo"] and breach[3:6] == ["medium", "ann", "first response"]
    assert re.search(r'<svg [^>]*role="img"\s+aria-labelledby="wait-chart-title '
                     r'wait-chart-desc"', page)
    assert '<title id="wait-chart-title">Queue wait per hour</title>' in page
    assert '<title id="fairness-1-title">Fairness per hour in demo</title>' in page
    assert re.search(r"<title>\d\d:00: 0\.90</title>", page)  # this hour's point


def test_rates_follow_the_counters_between_samples(rt, client):
    from gateway.ops import queue_rates
    first = queue_rates.Sample(t=1000.0, accepted={"email": 10},
                               jobs={"w1": ["email", 5], "w2": ["chat", 7]})
    assert queue_rates.rates(rt.redis, first, ["email", "chat"])["email"].done_per_min is None
    later_sample = queue_rates.Sample(t=1120.0, accepted={"email": 40},
                                      jobs={"w1": ["email", 9], "w3": ["email", 2]})
    rates = queue_rates.rates(rt.redis, later_sample, ["email", "chat", "outbound"])
    assert rates["email"].accepted_per_min == pytest.approx(15.0)  # 30 in two minutes
    assert rates["email"].done_per_min == pytest.approx(3.0)  # w1: 4, new w3: 2
    assert rates["chat"].done_per_min == 0  # w2 died: its jobs are not new work
    assert rates["outbound"].accepted_per_min is None


# --- replay buttons ---

def logged_in(client) -> str:
    """Log in through the form; return the page."""
    assert client.post("/ops/login", data={"token": TOKEN},
                       headers=SAME_ORIGIN).status_code == 303
    return client.get("/ops").get_data(as_text=True)


def press(client, page: str, button_start: str):
    """Submit the page's form whose button starts with ``button_start``, as a browser would."""
    found = form(page, button_start)
    response = client.post(found.action, data=found.fields, headers=SAME_ORIGIN)
    assert response.status_code == 303
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_replay_button_puts_a_failed_job_back_on_its_queue(rt, client):
    job_id = fail_a_job(rt, "outbound")
    page = press(client, logged_in(client), f"Replay job {job_id} of queue outbound")
    assert "The failed job is queued again." in page
    queue = Queue("outbound", connection=rt.redis)
    assert (queue.count, queue.failed_job_registry.count) == (1, 0)
    assert queue.job_ids == [job_id]


def test_replay_all_failed_jobs_of_a_queue(rt, client):
    ids = {fail_a_job(rt), fail_a_job(rt)}
    page = press(client, logged_in(client), "Replay all failed jobs of email (2)")
    assert "2 failed job(s) queued again." in page
    assert set(Queue("email", connection=rt.redis).job_ids) == ids


def test_replaying_a_job_no_longer_failed_says_so(rt, client):
    job_id = fail_a_job(rt)
    page = logged_in(client)
    press(client, page, f"Replay job {job_id}")
    assert "no longer in the failed registry" in press(client, page, f"Replay job {job_id}")
    assert Queue("email", connection=rt.redis).count == 1


def test_the_replay_button_puts_a_quarantine_entry_back_on_its_channel_queue(rt, client):
    assert auto_reply(rt) == "quarantined"
    Queue("email", connection=rt.redis).empty()  # the intake's own job: processed above
    with rt.read_sessions() as session:
        entry = session.scalars(select(QuarantineEntry)).one()
    page = press(client, logged_in(client), f"Replay quarantine entry {entry.id}")
    assert "The quarantine entry is queued again." in page
    with rt.read_sessions() as session:
        assert session.get(QuarantineEntry, entry.id).replayed_at is not None
    [job] = Queue("email", connection=rt.redis).jobs
    [envelope] = job.args[0]
    assert (envelope["replay_of"], envelope["raw_ref"]) == (entry.id, entry.envelope["raw_ref"])
    assert "Nothing is waiting in quarantine." in page


def test_replay_all_entries_of_a_reason_leaves_the_other_reasons(rt, client):
    auto_reply(rt)
    auto_reply(rt)
    unknown_workspace(rt)
    for name in ("email", "form"):
        Queue(name, connection=rt.redis).empty()
    page = press(client, logged_in(client), "Replay all automatic entries (2)")
    assert "2 quarantine entr(y/ies) queued again." in page
    assert Queue("email", connection=rt.redis).count == 2
    reasons = [h for h in headings(page) if "waiting)" in h]
    assert reasons == ["unknown_workspace (1 waiting)"]


def test_replaying_an_entry_without_a_channel_queue_or_a_missing_one_is_refused(rt, client):
    with rt.sessions.begin() as session:
        entry = QuarantineEntry(workspace="demo", channel="pigeon", reason="unparseable",
                                envelope={"channel": "pigeon"})
        session.add(entry)
        session.flush()
        entry_id = entry.id
    page = logged_in(client)
    assert "no envelope a channel queue could process" in press(
        client, page, f"Replay quarantine entry {entry_id}")
    missing = client.post(f"/ops/quarantine/{entry_id + 1}/replay", headers=BEARER)
    assert "notice=entry_gone" in missing.headers["Location"]
