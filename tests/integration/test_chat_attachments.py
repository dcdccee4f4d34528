"""Remote chat attachments end to end: signed chat webhook -> real RQ chat worker processes ->
a real local HTTP server (http.server in a thread) through the guarded client -> blob store and
API. The demo workspace lists ``localhost`` and ``127.0.0.1`` in ``fetch_allow_hosts``, except
where a test shows the refusal; nothing is mocked."""
from __future__ import annotations

import base64
import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.harness import free_port
# the fixtures (test_config, web) and helpers of the chat path's tests
from tests.integration.test_chat_path import (LOCAL_HOSTS, api, post,  # noqa: F401
                                              test_config, tickets, web, work)
from workers.ingest import remote_files
from workers.fetch.guarded import AllowList

pytestmark = pytest.mark.integration
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40


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
