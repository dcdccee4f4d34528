"""The chat callback and the outbound webhook go through the guarded client: a forbidden address
fails at once with the reason (no retries against it), a redirect is not followed, a dripping
receiver is cut at the deadline. Local receivers are reached only through ``fetch_allow_hosts``."""
import copy
import time

import pytest

from config.workspaces import parse_config
from gateway.web import create_app
from store.models import Message
from tests.conftest import TEST_CONFIG
from tests.outbound.conftest import reply
from tests.outbound.mails import first_mail
from tests.outbound.test_acknowledgement import ingest
from tests.outbound.workspaces import LOCAL_FETCH_HOSTS, outbound_config
from tests.workers import fetch_servers
from tests.workers.events import chat_event
from workers.ingest.job import store_event
from workers.outbound import deliver, webhook
from workers.outbound.relay import TransientFailure

SECRET_ENV = "TG_TEST_CHAT_SECRET"


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "chat-secret")
    monkeypatch.setenv("TG_TEST_CORE_SECRET", "core-secret")
    running = fetch_servers.start()
    running.url = f"http://127.0.0.1:{running.server_address[1]}"
    yield running
    fetch_servers.stop(running)


def chat_reply(rt, callback_url: str, allow=()) -> int:
    """A stored chat ticket of a workspace with ``callback_url``, and a queued agent reply."""
    data = copy.deepcopy(TEST_CONFIG)
    data["workspaces"][0]["channels"] = {"chat": {"secret_env": SECRET_ENV,
                                                  "callback_url": callback_url}}
    data["workspaces"][0]["fetch_allow_hosts"] = list(allow)
    rt.config = parse_config(data)
    store_event(rt, rt.config.workspace("demo"), chat_event("m1", conversation="conv-9"))
    return reply(create_app(rt).test_client(), 1, "Hello").get_json()["id"]


def state(rt, message_id: int) -> tuple[str, str, int]:
    with rt.sessions() as session:
        message = session.get(Message, message_id)
        return message.delivery_status, message.delivery_detail, message.attempts


@pytest.mark.parametrize("url, reason", [
    ("http://127.0.0.1:{port}/status/200", "127.0.0.1 is a loopback address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local"),
    ("http://[::ffff:10.0.0.1]/hook", "private (as 10.0.0.1)"),
    ("file:///etc/passwd", "only http and https")])
def test_a_callback_to_a_forbidden_address_fails_at_once(rt, server, url, reason):
    url = url.format(port=server.server_address[1])
    message_id = chat_reply(rt, url)
    assert deliver.deliver_with(rt, message_id) == "failed"   # no exception: no RQ retry
    status, detail, attempts = state(rt, message_id)
    assert detail.startswith("refused: ") and reason in detail and attempts == 1
    assert server.posts == []


def test_a_listed_callback_host_is_posted_to(rt, server):
    message_id = chat_reply(rt, f"{server.url}/status/200", allow=LOCAL_FETCH_HOSTS)
    assert deliver.deliver_with(rt, message_id) == "sent"
    status, detail, _ = state(rt, message_id)
    assert detail == f"{server.url} answered 200" and len(server.posts) == 1


def test_a_redirecting_callback_fails_without_following(rt, server):
    target = f"{server.url}/status/200"
    message_id = chat_reply(rt, f"{server.url}/go?to={target}", allow=LOCAL_FETCH_HOSTS)
    assert deliver.deliver_with(rt, message_id) == "failed"
    assert state(rt, message_id)[1] == f"{server.url} answered 302"
    assert [p.split("?")[0] for p in server.paths] == ["/go"]


def test_a_dripping_callback_is_cut_at_its_deadline_and_retried(rt, server):
    message_id = chat_reply(rt, f"{server.url}/drip-headers", allow=LOCAL_FETCH_HOSTS)
    started = time.monotonic()
    with pytest.raises(TransientFailure, match="not finished within 10 s"):
        deliver.deliver_with(rt, message_id)
    assert 9.9 <= time.monotonic() - started < 13   # the chat callback's 10 s, not more
    assert state(rt, message_id)[0] == "queued"


def push_all(rt) -> list:
    from rq import Queue
    queue = Queue("outbound", connection=rt.redis)
    results = [webhook.push_with(rt, *job.args) for job in queue.get_jobs()
               if job.func_name == "workers.outbound.webhook.push"]
    queue.empty()
    return results


def test_a_webhook_to_a_forbidden_address_is_dropped_not_retried(rt, server, caplog):
    rt.config = outbound_config(webhook={"url": "http://10.1.2.3/core",
                                         "secret_env": "TG_TEST_CORE_SECRET"})
    ingest(rt, first_mail())
    assert push_all(rt) == ["dropped: refused: 10.1.2.3 is a private address, not in "
                            "fetch_allow_hosts"]
    assert "dropped for good" in caplog.text


def test_a_dripping_webhook_receiver_is_cut_at_timeout_s(rt, server):
    rt.config = outbound_config(webhook={"url": f"{server.url}/drip-headers", "timeout_s": 1,
                                         "secret_env": "TG_TEST_CORE_SECRET"})
    ingest(rt, first_mail())
    started = time.monotonic()
    with pytest.raises(TransientFailure, match="not finished within 1 s"):
        push_all(rt)
    assert time.monotonic() - started < 3
