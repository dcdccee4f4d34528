"""Flushing the local outbox once a relay is set: each kept mail reaches the relay (the aiosmtpd
sink) exactly once, even with flushes running at once; failures leave it waiting or fail it."""
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from gateway.web import create_app
from store.models import Message, OutboxEntry, Ticket, Workspace, utcnow
from tests.integration.harness import PROJECT_DIR, free_port, process_env
from tests.outbound.conftest import inbound, reply, with_relay
from tests.outbound.mails import first_mail
from workers.outbound import deliver, flush, outbox


def keep(rt, client, count: int = 1, workspace: str = "demo") -> list[int]:
    """``count`` new tickets answered while no relay is set: their replies are in the outbox."""
    relay_url, ids = rt.settings.smtp_relay_url, []
    with_relay(rt, "")
    rcpt = "support@demo.test" if workspace == "demo" else "help@acme.test"
    for i in range(count):
        mail = first_mail(subject=f"{workspace} question {i}")
        assert inbound(rt, mail, rcpt_to=(rcpt,), workspace=workspace) == "created"
        answer = reply(client, ticket_number(rt, workspace, mail["Subject"]), f"Answer {i}",
                       slug=workspace)
        ids.append(answer.get_json()["id"])
        assert deliver.deliver_with(rt, ids[-1]) == "outbox"
    with_relay(rt, relay_url)
    return ids


def ticket_number(rt, workspace: str, subject: str) -> int:
    with rt.sessions() as s:
        return s.scalar(select(Ticket.number).join(Workspace)
                        .where(Workspace.slug == workspace, Ticket.subject == subject))


def state(rt, message_id: int) -> tuple[Message, OutboxEntry]:
    with rt.sessions() as s:
        return (s.get(Message, message_id),
                s.scalar(select(OutboxEntry).where(OutboxEntry.message_id == message_id)))


def quiet(rt, **options) -> flush.Report:
    return flush.flush_with(rt, out=lambda line: None, **options)


def lf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n")


def test_flush_sends_the_kept_mail_once_and_marks_it_sent(rt, client, sink):
    [message_id] = keep(rt, client)
    _, entry = state(rt, message_id)
    lines = []
    report = flush.flush_with(rt, out=lines.append)
    assert (report.waiting, report.sent, report.exit_status()) == (1, 1, 0)
    [(mail_from, rcpt_tos, data)] = sink.mails
    assert lf(data).rstrip(b"\n") == lf(rt.blobs.get(entry.raw_ref)).rstrip(b"\n")  # as kept
    assert (mail_from, rcpt_tos) == ("support@demo.test", ["alice@customer.test"])
    message, entry = state(rt, message_id)
    assert message.delivery_status == "sent" and message.delivered_at is not None
    assert "sent from the outbox" in message.delivery_detail and entry.sent_at is not None
    assert lines == ["sent: outbox #1 [demo] to alice@customer.test: "
                     "Re: demo question 0 [#1]"]
    assert quiet(rt).waiting == 0 and len(sink.mails) == 1  # again: nothing to send


@pytest.fixture
def any_rt(runtime, api_keys, sink):
    """SQLite and PostgreSQL, relaying to the sink."""
    return with_relay(runtime, sink.url)


def test_flushes_running_at_once_send_each_mail_once(any_rt, sink):
    ids = keep(any_rt, create_app(any_rt).test_client(), count=12)
    start, reports = threading.Barrier(4), []

    def run():
        start.wait()
        reports.append(quiet(any_rt))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    message_ids = sorted(str(sink.parsed(i)["Message-ID"]) for i in range(len(sink.mails)))
    assert len(message_ids) == 12 and len(set(message_ids)) == 12
    assert sum(r.sent for r in reports) == 12 and len(reports) == 4
    assert {state(any_rt, i)[0].delivery_status for i in ids} == {"sent"}


def test_an_entry_is_claimed_once(rt, client):
    keep(rt, client)
    [entry] = outbox.waiting(rt)
    assert outbox.claim(rt, entry) is not None
    assert outbox.claim(rt, entry) is None       # the same read: the stamp moved on
    assert outbox.waiting(rt) == []              # a live claim is not waiting


def test_a_dead_flushs_claim_is_taken_again_after_the_lease(rt, client, sink):
    old, fresh = keep(rt, client, count=2)
    lease = timedelta(seconds=outbox.CLAIM_LEASE_S)
    with rt.sessions.begin() as s:  # claimed by flushes that died: long ago, and just now
        for message_id, age in ((old, lease + timedelta(minutes=1)), (fresh, timedelta(0))):
            s.execute(update(OutboxEntry).where(OutboxEntry.message_id == message_id)
                      .values(sent_at=utcnow() - age))
    report = quiet(rt)
    assert (report.waiting, report.sent, len(sink.mails)) == (1, 1, 1)
    assert state(rt, old)[0].delivery_status == "sent"
    assert state(rt, fresh)[0].delivery_status == "outbox"


def test_a_transient_refusal_leaves_the_mail_waiting(rt, client, sink):
    [message_id] = keep(rt, client)
    sink.answer = "451 4.3.0 try later"
    report = quiet(rt)
    assert (report.left, report.exit_status()) == (1, 1)
    message, entry = state(rt, message_id)
    assert message.delivery_status == "outbox" and entry.sent_at is None
    assert "451" in message.delivery_detail
    sink.answer = ""
    assert quiet(rt).sent == 1 and len(sink.mails) == 1


def test_a_permanent_refusal_fails_the_message_for_good(rt, client, sink):
    [message_id] = keep(rt, client)
    sink.answer = "550 5.1.1 no such user"
    report = quiet(rt)
    assert (report.failed, report.exit_status()) == (1, 1)
    message, entry = state(rt, message_id)
    assert message.delivery_status == "failed" and "550" in message.delivery_detail
    assert entry.sent_at is None
    sink.answer = ""
    assert quiet(rt).waiting == 0 and sink.mails == []


def test_a_relay_that_is_down_stops_the_flush(rt, client, sink):
    ids = keep(rt, client, count=4)
    with_relay(rt, f"smtp://127.0.0.1:{free_port()}")  # nobody listens there
    lines = []
    report = flush.flush_with(rt, out=lines.append)
    assert (report.left, report.sent) == (4, 0)
    assert lines[-1].startswith(f"stopped after {flush.GIVE_UP_AFTER} transient failures")
    assert {state(rt, i)[1].sent_at for i in ids} == {None}


def test_kept_mail_missing_from_the_blob_store_fails_with_the_reason(rt, client, sink):
    [message_id] = keep(rt, client)
    rt.blobs.path(state(rt, message_id)[1].raw_ref).unlink()
    assert quiet(rt).failed == 1
    message, _ = state(rt, message_id)
    assert message.delivery_status == "failed" and "blob store" in message.delivery_detail


def test_dry_run_lists_and_sends_nothing_even_without_a_relay(rt, client, sink):
    [message_id] = keep(rt, client)
    with_relay(rt, "")
    lines = []
    report = flush.flush_with(rt, dry_run=True, out=lines.append)
    assert report.waiting == 1 and lines[0].startswith("would send: outbox #1 [demo]")
    assert sink.mails == [] and state(rt, message_id)[1].sent_at is None


def test_workspace_option_flushes_only_that_workspace(rt, client, sink):
    [demo_id] = keep(rt, client, workspace="demo")
    [acme_id] = keep(rt, client, workspace="acme")
    assert quiet(rt, workspace="acme").sent == 1
    assert [rcpt for _, rcpt, _ in sink.mails] == [["alice@customer.test"]]
    assert sink.mails[0][0] == "help@acme.test"
    assert state(rt, acme_id)[0].delivery_status == "sent"
    assert state(rt, demo_id)[0].delivery_status == "outbox"


@pytest.mark.parametrize("url", ["", "http://relay.example", "smtp://"])
def test_without_a_usable_relay_the_flush_refuses(rt, client, url):
    keep(rt, client)
    with pytest.raises(flush.RelayMissing, match="SMTP_RELAY_URL"):
        quiet(with_relay(rt, url))


def run_cli(rt, tmp_path, *args, relay: str = "") -> subprocess.CompletedProcess:
    env = {**process_env(rt, tmp_path), "SMTP_RELAY_URL": relay}
    return subprocess.run([sys.executable, "-m", "workers.outbound.flush", *args], env=env,
                          cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60)


def test_command_line_flush(rt, client, sink, tmp_path):
    [message_id] = keep(rt, client)
    unset = run_cli(rt, tmp_path)
    assert unset.returncode == 2 and "SMTP_RELAY_URL is unset" in unset.stderr
    bad_option = run_cli(rt, tmp_path, "--everything", relay=sink.url)
    assert bad_option.returncode == 2 and "unrecognized arguments" in bad_option.stderr
    listed = run_cli(rt, tmp_path, "--dry-run", "--workspace", "demo")
    assert listed.returncode == 0 and "would send: outbox #1 [demo]" in listed.stdout
    assert sink.mails == []
    sent = run_cli(rt, tmp_path, "--workspace", "demo", relay=sink.url)
    assert sent.returncode == 0, sent.stderr
    assert "1 waiting: 1 sent, 0 failed, 0 left" in sent.stdout and len(sink.mails) == 1
    assert state(rt, message_id)[0].delivery_status == "sent"
