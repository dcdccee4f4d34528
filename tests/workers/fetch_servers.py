"""Local servers for the guarded client's tests: a plain HTTP server with hostile routes, a TLS
one with a self-signed certificate, and a hosts-file style resolver the test controls."""
from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DRIP_BYTES = 200          # a drip of 200 bytes at 0.2 s each: 40 s if nobody cuts it


class Hostile(BaseHTTPRequestHandler):
    """/ok echoes the Host header; /go?to=URL redirects there; /chain/N redirects N times;
    /drip-body and /drip-headers trickle a byte every 0.2 s; /big streams without a length;
    /big-announced announces a gigabyte; /status/N answers N."""
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.server.paths.append(self.path)
        path, _, query = self.path.partition("?")
        if path == "/ok":
            self.answer(200, f"host={self.headers['Host']}".encode())
        elif path == "/go":
            self.redirect(query.removeprefix("to="))
        elif path.startswith("/chain/"):
            left = int(path.rsplit("/", 1)[1])
            self.redirect(f"/chain/{left - 1}") if left else self.answer(200, b"end of chain")
        elif path == "/drip-body":
            self.send_response(200)
            self.send_header("Content-Length", str(DRIP_BYTES))
            self.end_headers()
            self.drip(b"x")
        elif path == "/drip-headers":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            self.drip(b"a")
        elif path == "/big":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.stream(b"y" * 65536, count=1000)   # 64 MiB unless the client stops
        elif path == "/big-announced":
            self.send_response(200)
            self.send_header("Content-Length", str(1 << 30))
            self.end_headers()
            self.stream(b"z" * 65536, count=10)
        else:
            self.answer(int(path.rsplit("/", 1)[1]) if path.startswith("/status/") else 404, b"")

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        self.server.posts.append(self.rfile.read(length))
        self.do_GET()

    def answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def drip(self, byte: bytes) -> None:
        self.stream(byte, DRIP_BYTES, pause_s=0.2)

    def stream(self, data: bytes, count: int, pause_s: float = 0.0) -> None:
        try:
            for _ in range(count):
                self.wfile.write(data)
                self.wfile.flush()
                time.sleep(pause_s)
        except OSError:
            self.server.cut.set()   # the client hung up: what the deadline and the cap must do
        self.close_connection = True

    def log_message(self, *args):
        pass


def start(server_class=ThreadingHTTPServer, wrap=None):
    server = server_class(("127.0.0.1", 0), Hostile)
    server.paths, server.posts, server.cut = [], [], threading.Event()
    if wrap is not None:
        server.socket = wrap(server.socket)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop(server) -> None:
    server.shutdown()
    server.server_close()


def hosts(table: dict[str, str | list[str]], calls: list | None = None):
    """A ``getaddrinfo`` that answers from ``table`` only, like an /etc/hosts the test owns."""
    def resolve(host, port, family=0, type_=0, *rest):
        if calls is not None:
            calls.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        found = table[host] if isinstance(table[host], list) else [table[host]]
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in found]
    return resolve


def self_signed(tmp_path, name: str) -> tuple[str, str]:
    """(cert, key) PEM files of a certificate for ``name`` made by the openssl command."""
    if shutil.which("openssl") is None:
        import pytest
        pytest.skip("the openssl command is not installed")
    cert, key = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return str(cert), str(key)


def tls_wrapper(cert: str, key: str, seen_names: list):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: seen_names.append(name)
    return lambda sock: context.wrap_socket(sock, server_side=True)
