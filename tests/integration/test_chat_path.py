"""End to end: signed chat webhook -> Redis -> real RQ chat worker processes -> store -> API.

Runs on SQLite and PostgreSQL with the real Redis. Remote attachments come from a real local
HTTP server (http.server in a thread); nothing is mocked. The guarded client refuses loopback
addresses by default: the demo workspace lists ``localhost`` and ``127.0.0.1`` in
``fetch_allow_hosts``, except where a test shows the refusal.
"""
from __future__ import annotations

import base64
import hashlib
import signal
import smtplib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rq import Worker
from sqlalchemy import select

from gateway.web import create_app
from store import repo
from store.models import Ticket
from tests.conftest import DEMO_KEY
from tests.gateway.test_chat_webhook import CHAT_SECRET, SECRET_ENV, chat_config, chat_payload
from tests.gateway.test_chat_webhook import post_chat
from tests.integration.harness import (free_port, kill_group, process_env, smtp_edge,
                                       start_worker)
from tests.integration.mails import customer_mail
from workers import remote_files
from workers.guarded_fetch import AllowList

pytestmark = pytest.mark.integration
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40


LOCAL_HOSTS = ("localhost", "127.0.0.1")


def with_fetch_allow_hosts(config, hosts=LOCAL_HOSTS):
    """The demo workspace of ``config`` with ``fetch_allow_hosts: hosts``."""
    demo = config.workspace("demo").model_copy(update={"fetch_allow_hosts": tuple(hosts)})
    return config.model_copy(update={"workspaces": (demo,) + config.workspaces[1:]})


@pytest.fixture
def test_config(request):
    options = dict(getattr(request, "param", {}))
    hosts = options.pop("fetch_allow_hosts", LOCAL_HOSTS)
    return with_fetch_allow_hosts(chat_config(**options), hosts)


@pytest.fixture
def web(runtime, api_keys, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, CHAT_SECRET)
    return create_app(runtime).test_client()


def post(web, **overrides):
    response = post_chat(web, chat_payload(**overrides))
    assert response.status_code == 202, response.get_json()


def work(runtime, tmp_path, queue="chat", count=1):
    """Run ``count`` burst worker processes on ``queue`` until it is empty."""
    env = process_env(runtime, tmp_path)
    workers = [start_worker(env, queue) for _ in range(count)]
    for worker in workers:
        output, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0, output.decode(errors="replace")[-3000:]


def api(web, path):
    response = web.get(path, headers={"Authorization": f"Bearer {DEMO_KEY}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def tickets(web, query=""):
    return sorted(api(web, f"/api/v1/tickets?limit=100{query}")["tickets"],
                  key=lambda t: t["number"])


def set_status(runtime, number: int, status: str) -> None:
    with runtime.sessions.begin() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        repo.set_status(session, ticket, status)


def test_messages_of_a_conversation_thread_into_one_ticket(runtime, web, tmp_path):
    post(web, text="My order did not arrive")
    post(web, text="Order number 1234")
    post(web, conversation_id="conv-2", visitor={"id": "other"}, text="Other question")
    work(runtime, tmp_path)
    post(web, text="Any news?")  # after the ticket exists
    retried = chat_payload(message_id="dup", text="once")
    assert post_chat(web, retried).status_code == 202
    # The sender's retry, signed anew: past the replay guard, the worker makes it a duplicate.
    assert post_chat(web, retried, timestamp=int(time.time()) - 5).status_code == 202
    work(runtime, tmp_path)
    first, second = tickets(web)
    assert (first["subject"], first["channel"], first["message_count"]) == (
        "My order did not arrive", "chat", 4)
    assert second["message_count"] == 1
    identities = {(i["kind"], i["value"]) for i in first["customer"]["identities"]}
    assert identities == {("chat", "visitor-1"), ("email", "vera@customer.test")}
    assert first["customer"]["name"] == "Vera Visitor"


def test_chat_visitor_and_the_same_address_by_mail_are_one_customer(runtime, web, tmp_path):
    """When the business's signed webhook vouches for the visitor's email (docs/threading.md)."""
    post(web, visitor={"id": "v-7", "name": "Alice", "email": "Alice@Customer.test",
                       "email_verified": True})
    work(runtime, tmp_path)
    with smtp_edge(runtime) as edge:
        with smtplib.SMTP(edge.hostname, edge.port) as client:
            client.send_message(customer_mail(sender="alice@customer.test"))
    work(runtime, tmp_path, queue="email")
    chat_ticket, mail_ticket = tickets(web)
    assert (chat_ticket["channel"], mail_ticket["channel"]) == ("chat", "email")
    assert chat_ticket["customer"]["id"] == mail_ticket["customer"]["id"]
    assert len(tickets(web, "&customer=alice@customer.test")) == 2
    assert len(tickets(web, "&customer=chat:v-7")) == 2


@pytest.mark.parametrize("test_config", [
    {}, {"conversation": {"on_resolved": "new_ticket", "on_closed": "reopen"}}], indirect=True,
    ids=["default", "inverted"])
def test_finished_conversation_follows_the_workspace_policy(runtime, web, tmp_path, test_config):
    policy = test_config.workspace("demo").channels.conversation
    post(web, text="first")
    work(runtime, tmp_path)
    for status in ("resolved", "closed"):
        current = tickets(web)[-1]["number"]
        set_status(runtime, current, status)
        post(web, text=f"after {status}")
        post(web, text=f"and more after {status}")
        work(runtime, tmp_path)
        latest = tickets(web)[-1]
        choice = policy.on_resolved if status == "resolved" else policy.on_closed
        if choice == "reopen":
            assert latest["number"] == current and latest["status"] == "open"
        else:
            assert latest["number"] == current + 1 and latest["status"] == "new"
            assert latest["follow_up_of"] is not None
            assert latest["message_count"] == 2  # the conversation moved to the new ticket
    assert sum(t["message_count"] for t in tickets(web)) == 5


def test_a_burst_of_one_conversation_lands_in_order_on_one_ticket(runtime, web, tmp_path):
    env = process_env(runtime, tmp_path)
    workers = [start_worker(env, "chat", burst=False) for _ in range(3)]
    try:
        assert wait_for(lambda: Worker.count(connection=runtime.redis) == 3, 30)
        texts = [f"message {i:02d}" for i in range(30)]
        for text in texts:  # posted in order while three workers take jobs in parallel
            post(web, text=text)
        assert wait_for(lambda: sum(t["message_count"] for t in tickets(web)) == 30, 60)
    finally:
        for worker in workers:
            kill_group(worker, signal.SIGTERM)
        outputs = [worker.communicate(timeout=30)[0].decode(errors="replace")
                   for worker in workers]
    [ticket] = tickets(web)
    detail = api(web, f"/api/v1/tickets/{ticket['number']}")
    assert [m["text"] for m in detail["messages"]] == texts
    busy = [o.count("Successfully completed") for o in outputs]
    assert sum(1 for n in busy if n) >= 2, busy  # the race really happened


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


class FileServer(BaseHTTPRequestHandler):
    """Serves /invoice.pdf; /missing is 404; /flaky is 503 on its first request; /to-ip
    redirects to /invoice.pdf at 127.0.0.1; /drip sends a byte every 0.2 s."""
    hits: dict[str, int] = {}

    def do_GET(self):  # noqa: N802 (http.server's naming)
        hits = FileServer.hits
        hits[self.path] = hits.get(self.path, 0) + 1
        if self.path == "/invoice.pdf" or (self.path == "/flaky" and hits[self.path] > 1):
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(PDF)))
            self.end_headers()
            self.wfile.write(PDF)
        elif self.path == "/chunked-big":
            self.send_response(200)
            self.end_headers()  # no Content-Length: the body ends when the connection closes
            self.wfile.write(b"x" * 5000)
            self.close_connection = True
        elif self.path == "/to-ip":
            self.send_response(302)
            self.send_header("Location",
                             f"http://127.0.0.1:{self.server.server_address[1]}/invoice.pdf")
            self.end_headers()
        elif self.path == "/drip":
            self.drip()
        else:
            self.send_error(503 if self.path == "/flaky" else 404)

    def drip(self):
        self.send_response(200)
        self.end_headers()
        try:
            for _ in range(200):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass  # the client gave up: that is the point

    def log_message(self, *args):
        pass


@pytest.fixture
def file_server():
    FileServer.hits = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), FileServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_url_attachments_are_downloaded_or_noted(runtime, web, tmp_path, file_server):
    post(web, text="See attached", attachments=[
        {"url": f"{file_server}/invoice.pdf"},
        {"url": f"{file_server}/missing", "filename": "scan.png", "content_type": "image/png"},
        {"content_base64": base64.b64encode(b"inline").decode(), "filename": "note.txt",
         "content_type": "text/plain"}])
    work(runtime, tmp_path)
    [ticket] = tickets(web)
    [message] = api(web, f"/api/v1/tickets/{ticket['number']}")["messages"]
    by_name = {a["filename"]: a for a in message["attachments"]}
    assert set(by_name) == {"invoice.pdf", "note.txt"}
    assert by_name["invoice.pdf"]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert by_name["invoice.pdf"]["content_type"] == "application/pdf"
    assert runtime.blobs.get(by_name["invoice.pdf"]["sha256"]) == PDF
    assert "attachment scan.png could not be downloaded: HTTP 404" in message["text"]
    assert message["text"].startswith("See attached")


def test_a_503_attachment_is_retried_until_it_downloads(runtime, web, tmp_path, file_server):
    post(web, text="flaky file", attachments=[{"url": f"{file_server}/flaky"}])
    work(runtime, tmp_path)
    assert FileServer.hits["/flaky"] == 2
    [ticket] = tickets(web)
    [message] = api(web, f"/api/v1/tickets/{ticket['number']}")["messages"]
    assert [a["filename"] for a in message["attachments"]] == ["flaky"]
    assert "could not be downloaded" not in message["text"]


def test_downloader_tells_permanent_from_transient_failures(file_server):
    local = AllowList(LOCAL_HOSTS)
    assert remote_files.download(f"{file_server}/invoice.pdf", local) == (PDF, "application/pdf")
    with pytest.raises(remote_files.DownloadFailed, match="HTTP 404"):
        remote_files.download(f"{file_server}/missing", local)
    with pytest.raises(remote_files.DownloadRetry):
        remote_files.download(f"{file_server}/flaky", local)
    with pytest.raises(remote_files.DownloadFailed, match="too big"):
        remote_files.download(f"{file_server}/invoice.pdf", local, max_bytes=100)  # announced
    with pytest.raises(remote_files.DownloadFailed, match="too big"):
        remote_files.download(f"{file_server}/chunked-big", local, max_bytes=4096)  # counted
    with pytest.raises(remote_files.DownloadRetry):
        remote_files.download(f"http://127.0.0.1:{free_port()}/refused", local)
    with pytest.raises(remote_files.DownloadFailed, match="http"):
        remote_files.download("ftp://files.test/a", local)


def test_downloader_refuses_loopback_unless_the_workspace_lists_it(file_server):
    with pytest.raises(remote_files.DownloadFailed, match="loopback"):
        remote_files.download(f"{file_server}/invoice.pdf")
    with pytest.raises(remote_files.DownloadFailed, match="127.0.0.1 is a loopback"):
        remote_files.download(f"{file_server.replace('127.0.0.1', 'localhost')}/to-ip",
                              AllowList(("localhost",)))
    assert FileServer.hits == {"/to-ip": 1}   # the refused addresses were never asked


def test_a_dripping_server_is_cut_at_the_message_budget(file_server):
    started = time.monotonic()
    with pytest.raises(remote_files.DownloadFailed, match="not finished within"):
        remote_files.download(f"{file_server}/drip", AllowList(LOCAL_HOSTS),
                              until=remote_files.budget_end(1.0))
    assert 0.9 < time.monotonic() - started < 3   # the drip would take 40 s


@pytest.mark.parametrize("test_config", [{"fetch_allow_hosts": ("localhost",)}],
                         indirect=True)
def test_attachment_redirected_to_loopback_is_noted_not_fetched(runtime, web, tmp_path,
                                                                  file_server, test_config):
    by_name = file_server.replace("127.0.0.1", "localhost")
    post(web, text="Two files", attachments=[
        {"url": f"{by_name}/to-ip", "filename": "moved.pdf"},
        {"url": f"{by_name}/invoice.pdf"}])
    work(runtime, tmp_path)
    [ticket] = tickets(web)
    [message] = api(web, f"/api/v1/tickets/{ticket['number']}")["messages"]
    assert [a["filename"] for a in message["attachments"]] == ["invoice.pdf"]  # listed host
    assert ("attachment moved.pdf could not be downloaded: 127.0.0.1 is a loopback address, "
            "not in fetch_allow_hosts") in message["text"]
    assert FileServer.hits == {"/to-ip": 1, "/invoice.pdf": 1}


@pytest.mark.parametrize("test_config", [{"fetch_allow_hosts": ()}], indirect=True)
def test_attachment_at_a_private_address_is_refused_by_default(runtime, web, tmp_path,
                                                                file_server, test_config):
    post(web, text="Look", attachments=[{"url": f"{file_server}/invoice.pdf"},
                                        {"url": "http://169.254.169.254/latest/meta-data/"}])
    work(runtime, tmp_path)
    [ticket] = tickets(web)
    [message] = api(web, f"/api/v1/tickets/{ticket['number']}")["messages"]
    assert message["attachments"] == [] and message["text"].startswith("Look")
    assert "invoice.pdf could not be downloaded: 127.0.0.1 is a loopback address" in message["text"]
    assert "169.254.169.254 is a link-local (cloud metadata) address" in message["text"]
    assert FileServer.hits == {}
