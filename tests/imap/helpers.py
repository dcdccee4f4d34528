"""Helpers of the IMAP tests: mailbox settings for the test Dovecot, mail, pollers in threads,
and what the store and the queue hold afterwards."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from redis import Redis
from rq import Queue
from sqlalchemy import func, select

from config.channels import Mailbox
from gateway.edges.imap.folders import FolderKey
from gateway.edges.imap.poller import FolderPoller
from gateway.edges.imap.state import Backoff
from gateway.edges.imap.sync import Deps, FolderSync
from queues.intake import Intake
from store.models import ImapFolder, Message, QuarantineEntry
from tests.imap.conftest import PASSWORD_ENV
from tests.integration.harness import process_env, run_workers
from tests.integration.mails import customer_mail

WORKSPACE = "demo"


def mailbox(dovecot, user: str, **overrides) -> Mailbox:
    settings = dict(name="support", host="127.0.0.1", port=dovecot.port, security="none",
                    user=user, password_env=PASSWORD_ENV, poll_interval_s=0.5)
    return Mailbox(**{**settings, **overrides})


def mail(n: int, **kwargs) -> bytes:
    kwargs.setdefault("subject", f"Question {n}")
    kwargs.setdefault("sender", f"Customer {n} <c{n}@customer.test>")
    kwargs.setdefault("body", f"Hello,\nthis is question number {n}.\n")
    return customer_mail(**kwargs).as_bytes()


def append(client, raws, folder: str = "INBOX", flags=()) -> None:
    for raw in raws:
        client.append(folder, raw, flags=flags)


def deps(runtime, redis: Redis | None = None) -> Deps:
    return Deps(sessions=runtime.sessions, intake=Intake(redis or runtime.redis))


def folder_sync(runtime, box: Mailbox, folder: str = "INBOX", redis=None, **kwargs) -> FolderSync:
    return FolderSync(FolderKey(WORKSPACE, box.name, folder), box, deps(runtime, redis), **kwargs)


def sync_once(runtime, dovecot, box: Mailbox, folder: str = "INBOX", redis=None) -> int:
    from gateway.edges.imap import connection
    client = connection.connect(box)
    try:
        return folder_sync(runtime, box, folder, redis).sync(client)
    finally:
        connection.close(client)


@contextmanager
def running_poller(runtime, box: Mailbox, folder: str = "INBOX", redis=None):
    """A real poller in a thread (fast backoff), stopped at the end of the block."""
    stop = threading.Event()
    poller = FolderPoller(WORKSPACE, box, folder, deps(runtime, redis), stop,
                          backoff=Backoff(base_s=0.1, cap_s=0.5))
    thread = threading.Thread(target=poller.run, daemon=True)
    thread.start()
    try:
        yield poller
    finally:
        stop.set()
        thread.join(15)
        assert not thread.is_alive(), "the poller did not stop"


def wait_for(predicate, timeout: float = 15, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def queued_envelopes(runtime) -> list[dict]:
    """Every envelope waiting on the email queue (each job carries a batch)."""
    queue = Queue("email", connection=runtime.redis)
    return [envelope for job in queue.get_jobs() for envelope in job.args[0]]


def queued_uids(runtime) -> list[int]:
    return sorted(e["meta"]["uid"] for e in queued_envelopes(runtime))


def position(runtime, folder: str = "INBOX", mailbox_name: str = "support") -> ImapFolder | None:
    with runtime.sessions() as session:
        row = session.scalars(select(ImapFolder).where(
            ImapFolder.workspace == WORKSPACE, ImapFolder.mailbox == mailbox_name,
            ImapFolder.folder == folder)).first()
        if row is not None:
            session.expunge(row)
        return row


def process_queue(runtime, tmp_path) -> None:
    run_workers(process_env(runtime, tmp_path))


def stored_subjects(runtime) -> list[str]:
    with runtime.sessions() as session:
        return sorted(session.scalars(select(Message.subject)))


def message_count(runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(Message))


def quarantine(runtime) -> list[QuarantineEntry]:
    with runtime.sessions() as session:
        rows = list(session.scalars(select(QuarantineEntry).order_by(QuarantineEntry.id)))
        session.expunge_all()
        return rows
