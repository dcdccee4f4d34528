"""A day of work for the ops dashboard tests, put through the real intake, ingest pipeline,
routing, REST API and sweep: what the dashboard must then show is known."""
from __future__ import annotations

import copy
import dataclasses
import uuid
from datetime import timedelta
from email.message import EmailMessage

from rq import Queue
from sqlalchemy import select, update

from config.workspaces import parse_config
from queues.intake import Intake
from store.models import Assignment, ImapFolder, utcnow
from tests.conftest import TEST_CONFIG
from tests.gateway.apifactory import auth
from tests.routing_pipeline.test_routing_pipeline import ALL_DAY, later
from tests.workers.inputs import feed, mail
from workers.assignment import sweep
from workers.ingest.job import ingest_with
from workers.run import IngestWorker  # a burst worker that never lingers at its exit

TOKEN = "ops-token-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
SAME_ORIGIN = {"Origin": "http://localhost"}
ROUTING = {
    "calendars": {"always": {"timezone": "UTC", "hours": ALL_DAY}},
    "agents": [{"id": "ann", "capacity": {"email": 1}, "status": "online"},
               {"id": "ben", "capacity": {"email": 1}, "status": "online"}],
    "sla": {"default": {"calendar": "always", "medium": {"first_response": "30m"}}},
}
MAILBOX = {"name": "support", "host": "imap.demo.test", "user": "u", "password_env": "X",
           "folders": ["INBOX"]}


def failing_job() -> None:
    """A job that always fails, to fill a failed registry."""
    raise RuntimeError("broken on purpose")


def auto_reply(rt) -> str:
    """An out-of-office answer that belongs to no ticket: quarantined as ``automatic``."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "ooo@customer.test", "support@demo.test", "Away"
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@customer.test>"
    msg["Auto-Submitted"] = "auto-replied"
    msg.set_content("I am out of the office until Monday.")
    return feed(rt, "email", msg.as_bytes(), "smtp", {"rcpt_to": ["support@demo.test"]})


def unknown_workspace(rt) -> None:
    envelope = Intake(rt.redis).accept("form", "ghost", "form", b"{}", {})
    assert ingest_with(rt, [envelope]) == ["quarantined"]


def fail_a_job(rt, queue_name: str = "email") -> str:
    queue = Queue(queue_name, connection=rt.redis)
    job = queue.enqueue(failing_job, at_front=True)  # no Retry: straight to failed
    IngestWorker([queue], connection=rt.redis).work(burst=True, max_jobs=1)  # this job only
    return job.id


def day_of_work(rt, client) -> None:
    """Three customers write, two agents take two of them, the third waits until ann resolves
    her first ticket; ben answers his; half an hour on the third has missed its first response.
    One auto-reply and one envelope of an unknown workspace end in quarantine, one job fails,
    and the IMAP poller fetched two minutes ago with two messages still to enqueue."""
    for sender in ("alice", "bob", "carol"):
        assert mail(rt, f"{sender}@customer.test", subject=f"Help {sender}")[0] == "created"
    assert client.post("/api/v1/tickets/2/replies", json={"text": "On it"},
                       headers=auth()).status_code == 201
    assert client.patch("/api/v1/tickets/1", json={"status": "resolved"},
                        headers=auth()).status_code == 200
    with rt.sessions.begin() as session:  # every assignment in this hour, whatever the clock
        hour = utcnow().replace(minute=0, second=0, microsecond=0)
        ids = session.scalars(select(Assignment.id).order_by(Assignment.id)).all()
        for n, assignment_id in enumerate(ids):
            session.execute(update(Assignment).where(Assignment.id == assignment_id)
                            .values(started_at=hour + timedelta(minutes=n),
                                    accepted_at=hour + timedelta(minutes=n)))
    assert sweep.sweep(rt, now=later(minutes=31))["breaches"] == 1
    assert auto_reply(rt) == "quarantined"
    unknown_workspace(rt)
    fail_a_job(rt)
    with rt.sessions.begin() as session:
        session.add(ImapFolder(workspace="demo", mailbox="support", folder="INBOX",
                               uidvalidity=1, last_uid=40, backlog=2,
                               last_fetch_at=utcnow() - timedelta(minutes=2)))


def configure(rt):
    """``rt`` with the scenario's workspace file (routing, SLA, a mailbox) and OPS_TOKEN."""
    data = copy.deepcopy(TEST_CONFIG)
    data["workspaces"][0]["routing"] = ROUTING
    data["workspaces"][0]["channels"] = {"mailboxes": [MAILBOX]}
    rt.config = parse_config(data)
    rt.settings = dataclasses.replace(rt.settings, ops_token=TOKEN)
    return rt
