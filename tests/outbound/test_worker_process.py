"""End to end with real processes: API reply -> outbound queue -> RQ worker process -> relay."""
import pytest
from sqlalchemy import select

from store.models import Message
from tests.integration.harness import process_env, start_worker
from tests.outbound.conftest import SIGNING_KEY, inbound, reply
from tests.outbound.mails import first_mail

pytestmark = pytest.mark.integration


def test_outbound_worker_delivers_a_reply(rt, client, sink, tmp_path):
    inbound(rt, first_mail())
    assert reply(client, 1, "Sent by the worker").status_code == 201
    env = {**process_env(rt, tmp_path), "SMTP_RELAY_URL": sink.url,
           "TICKETGATE_SIGNING_KEY": SIGNING_KEY}
    worker = start_worker(env, "outbound")
    output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, output.decode(errors="replace")[-2000:]
    assert "Sent by the worker" in sink.parsed().get_body(("plain",)).get_content()
    with rt.sessions() as s:
        assert s.scalar(select(Message.delivery_status).where(Message.direction == "out")) == "sent"
