"""Replay of quarantine entries and of RQ failed jobs, against real Redis and databases."""
from __future__ import annotations

import io

import pytest
from rq import Queue, SimpleWorker

from store.models import QuarantineEntry, utcnow
from queues.replay import NotReplayable, main, replay_entry


def failing_job() -> None:
    """An RQ job that always fails, to fill a failed registry."""
    raise RuntimeError("broken on purpose")


def add_entry(rt, workspace: str = "demo", channel: str = "email", **values) -> int:
    envelope = {"v": 1, "channel": channel, "workspace": workspace, "raw_ref": "ab" * 32,
                "account": "support@demo.test", "size": 5, "meta": {}}
    with rt.sessions.begin() as session:
        entry = QuarantineEntry(workspace=workspace, channel=channel, reason="unparseable",
                                envelope=envelope, **values)
        session.add(entry)
        session.flush()
        return entry.id


def replayed(rt, entry_id: int) -> bool:
    with rt.sessions() as session:
        return session.get(QuarantineEntry, entry_id).replayed_at is not None


def run(rt, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), rt, out), out.getvalue()


def test_replay_entry_enqueues_envelope_and_marks_entry(runtime):
    entry_id = add_entry(runtime, channel="email")
    with runtime.sessions.begin() as session:
        job = replay_entry(runtime, session, session.get(QuarantineEntry, entry_id))
    assert job.origin == "email"
    assert job.args[0][0]["raw_ref"] == "ab" * 32
    assert Queue("email", connection=runtime.redis).count == 1
    assert replayed(runtime, entry_id)


def test_replay_entry_refuses_an_entry_without_a_channel_queue(sqlite_runtime):
    entry_id = add_entry(sqlite_runtime, channel="carrier-pigeon")
    with sqlite_runtime.sessions.begin() as session:
        with pytest.raises(NotReplayable):
            replay_entry(sqlite_runtime, session, session.get(QuarantineEntry, entry_id))
    assert not replayed(sqlite_runtime, entry_id)


def test_cli_all_replays_only_entries_not_replayed_yet(runtime):
    pending = add_entry(runtime)
    add_entry(runtime, replayed_at=utcnow())
    code, output = run(runtime, "quarantine", "--all")
    assert code == 0
    assert f"entry {pending}" in output and "replayed 1 of 1" in output
    assert Queue("email", connection=runtime.redis).count == 1


def test_cli_all_with_workspace_replays_only_that_workspace(sqlite_runtime):
    demo, acme = add_entry(sqlite_runtime, "demo"), add_entry(sqlite_runtime, "acme")
    run(sqlite_runtime, "quarantine", "--all", "--workspace", "acme")
    assert replayed(sqlite_runtime, acme) and not replayed(sqlite_runtime, demo)


def test_cli_id_replays_one_entry(sqlite_runtime):
    first, second = add_entry(sqlite_runtime), add_entry(sqlite_runtime, channel="chat")
    code, _ = run(sqlite_runtime, "quarantine", "--id", str(second))
    assert code == 0
    assert replayed(sqlite_runtime, second) and not replayed(sqlite_runtime, first)
    assert Queue("chat", connection=sqlite_runtime.redis).count == 1


def test_cli_id_of_unknown_entry_fails(sqlite_runtime):
    code, output = run(sqlite_runtime, "quarantine", "--id", "999")
    assert code == 1 and "not found" in output


def test_cli_needs_id_or_all(sqlite_runtime):
    with pytest.raises(SystemExit):
        run(sqlite_runtime, "quarantine")


def test_cli_failed_requeues_the_failed_registry(sqlite_runtime):
    queue = Queue("email", connection=sqlite_runtime.redis)
    job = queue.enqueue(failing_job)
    SimpleWorker([queue], connection=sqlite_runtime.redis).work(burst=True)
    assert queue.failed_job_registry.count == 1
    code, output = run(sqlite_runtime, "failed", "--queue", "email")
    assert code == 0 and job.id in output
    assert queue.failed_job_registry.count == 0
    assert queue.job_ids == [job.id]


def test_an_entry_quarantined_as_messenger_replays_on_the_telegram_queue(sqlite_runtime):
    """Entries written before the queue rename (``messenger`` -> ``telegram``) stay replayable."""
    entry_id = add_entry(sqlite_runtime, channel="messenger")
    with sqlite_runtime.sessions.begin() as session:
        job = replay_entry(sqlite_runtime, session, session.get(QuarantineEntry, entry_id))
    assert job.origin == "telegram" and job.args[0][0]["channel"] == "telegram"
    assert Queue("messenger", connection=sqlite_runtime.redis).count == 0
    assert replayed(sqlite_runtime, entry_id)
