"""The guarded client against real local servers: schemes, addresses on every hop, pinning,
redirect limits, the total deadline and the size cap. No mocks: the only stand-in is a
hosts-file style resolver, so that a name can point at 127.0.0.1 as a hostile DNS would."""
from __future__ import annotations

import re
import time

import pytest

from tests.workers import fetch_servers
from tests.workers.fetch_servers import hosts
from workers.fetch.guarded import (AllowList, DeadlineExceeded, Limits, Refused, TooLarge, Unreachable, fetch)

LOCAL = AllowList(("127.0.0.1",))


@pytest.fixture
def server():
    running = fetch_servers.start()
    running.url = f"http://127.0.0.1:{running.server_address[1]}"
    running.port = running.server_address[1]
    yield running
    fetch_servers.stop(running)


def test_a_listed_address_is_fetched(server):
    response = fetch(f"{server.url}/ok", allow=LOCAL)
    assert (response.status, response.body) == (200, f"host=127.0.0.1:{server.port}".encode())


def test_loopback_is_refused_by_default_before_any_connection(server):
    with pytest.raises(Refused, match="127.0.0.1 is a loopback address"):
        fetch(f"{server.url}/ok")
    assert server.paths == []


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "gopher://127.0.0.1:70/_x", "ftp://files.example/a", "dict://x:11/",
    "javascript:alert(1)", "//no-scheme.example/a", "http:///no-host", "http://[::1/broken",
    "http://example.com:99999/"])
def test_other_schemes_and_broken_urls_are_refused(url):
    with pytest.raises(Refused):
        fetch(url)


@pytest.mark.parametrize("host, label", [
    ("10.0.0.1", "private"), ("[::1]", "loopback"), ("0x7f000001", "loopback"),
    ("2130706433", "loopback"), ("127.1", "loopback"), ("0177.0.0.1", "loopback"),
    ("[::ffff:127.0.0.1]", "loopback"), ("169.254.169.254", "link-local (cloud metadata)"),
    ("100.64.0.1", "shared (CGNAT)"), ("[fd00::1]", "unique-local"), ("[fe80::1]", "link-local"),
    ("0.0.0.0", "unspecified"), ("224.0.0.1", "multicast"), ("192.168.1.1", "private"),
    ("[64:ff9b::a9fe:a9fe]", "link-local"), ("172.31.255.255", "private")])
def test_private_addresses_in_any_spelling_are_refused(host, label):
    started = time.monotonic()
    with pytest.raises(Refused, match=re.escape(f"is a {label}")) as refused:
        fetch(f"http://{host}:9/latest/meta-data/")
    assert "fetch_allow_hosts" in refused.value.reason
    assert time.monotonic() - started < 1   # refused before any connection attempt


def test_a_name_resolving_to_a_private_address_is_refused(server):
    resolver = hosts({"evil.test": "10.0.0.5", "mixed.test": ["93.184.216.34", "127.0.0.1"]})
    with pytest.raises(Refused, match=r"evil.test \(10.0.0.5\) is a private address"):
        fetch("http://evil.test/", resolver=resolver)
    with pytest.raises(Refused, match=r"mixed.test \(127.0.0.1\) is a loopback"):
        fetch("http://mixed.test/", resolver=resolver)   # every address must pass


def test_the_connection_is_pinned_to_the_checked_address(server):
    calls = []
    resolver = hosts({"files.test": "127.0.0.1"}, calls)
    response = fetch(f"http://files.test:{server.port}/ok", allow=AllowList(("files.test",)),
                     resolver=resolver)
    # One lookup, then the connection went to that address (the system resolver does not know
    # files.test), with the URL's host name in the Host header.
    assert calls == ["files.test"]
    assert response.body == f"host=files.test:{server.port}".encode()


def test_a_redirect_to_loopback_is_refused_unless_allowed(server):
    start = f"http://localhost:{server.port}/go?to=http://127.0.0.1:{server.port}/ok"
    with pytest.raises(Refused, match="127.0.0.1 is a loopback address"):
        fetch(start, allow=AllowList(("localhost",)))
    assert [p.split("?")[0] for p in server.paths] == ["/go"]   # /ok never asked
    response = fetch(start, allow=AllowList(("localhost", "127.0.0.1")))
    assert response.body == f"host=127.0.0.1:{server.port}".encode()


def test_every_hop_is_checked_with_the_resolver(server):
    resolver = hosts({"files.test": "127.0.0.1", "internal.test": "127.0.0.1"})
    start = f"http://files.test:{server.port}/go?to=http://internal.test:{server.port}/ok"
    with pytest.raises(Refused, match=r"internal.test \(127.0.0.1\) is a loopback"):
        fetch(start, allow=AllowList(("files.test",)), resolver=resolver)


def test_a_redirect_to_another_scheme_is_refused(server):
    with pytest.raises(Refused, match="only http and https"):
        fetch(f"{server.url}/go?to=file:///etc/passwd", allow=LOCAL)


def test_redirect_chains_stop_at_the_limit(server):
    assert fetch(f"{server.url}/chain/3", allow=LOCAL).body == b"end of chain"
    with pytest.raises(Refused, match="more than 3 redirects"):
        fetch(f"{server.url}/chain/4", allow=LOCAL)
    with pytest.raises(Refused, match="more than 0 redirects"):
        fetch(f"{server.url}/chain/1", allow=LOCAL, limits=Limits(max_redirects=0))


def test_a_post_is_not_redirected(server):
    response = fetch(f"{server.url}/chain/1", allow=LOCAL, method="POST", body=b"{}")
    assert response.status == 302 and server.posts == [b"{}"]


@pytest.mark.parametrize("path", ["/drip-body", "/drip-headers"])
def test_a_dripping_server_is_cut_at_the_deadline(server, path):
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded, match="not finished within 1 s"):
        fetch(f"{server.url}{path}", allow=LOCAL, limits=Limits(deadline_s=1.0))
    elapsed = time.monotonic() - started
    assert 0.95 <= elapsed < 3, elapsed   # each byte came in time: only the deadline cut it
    assert server.cut.wait(5)             # and the connection was really closed


def test_the_deadline_covers_the_whole_redirect_chain(server):
    until = time.monotonic() + 1.0
    with pytest.raises(DeadlineExceeded):
        fetch(f"{server.url}/go?to=/drip-body", allow=LOCAL, until=until)
    assert time.monotonic() - until < 2


def test_an_oversized_body_is_cut_at_the_cap(server):
    started = time.monotonic()
    with pytest.raises(TooLarge, match="more than 1.0 MiB"):
        fetch(f"{server.url}/big", allow=LOCAL, limits=Limits(max_bytes=1024 * 1024))
    assert server.cut.wait(5) and time.monotonic() - started < 5   # not all 64 MiB


def test_an_announced_oversized_body_is_refused_unread(server):
    with pytest.raises(TooLarge, match="1024.0 MiB > 1.0 MiB"):
        fetch(f"{server.url}/big-announced", allow=LOCAL, limits=Limits(max_bytes=1024 * 1024))


def test_a_network_allowed_in_cidr_form_lets_its_addresses_through(server):
    assert fetch(f"{server.url}/ok", allow=AllowList(("127.0.0.0/8",))).status == 200


def test_a_closed_port_is_unreachable_not_refused():
    with pytest.raises(Unreachable, match="cannot connect"):
        fetch("http://127.0.0.1:9/", allow=LOCAL)


def test_a_host_that_does_not_exist_is_refused_for_good():
    with pytest.raises(Refused, match="nowhere.test: no such host"):
        fetch("http://nowhere.test/", resolver=hosts({}))
    with pytest.raises(Refused, match="no such host"):
        fetch(f"http://{'a' * 64}.example/")   # a label over 63 characters: UnicodeError


def test_https_is_pinned_with_the_host_name_for_sni_and_the_certificate(tmp_path):
    cert, key = fetch_servers.self_signed(tmp_path, "files.test")
    names: list = []
    server = fetch_servers.start(wrap=fetch_servers.tls_wrapper(cert, key, names))
    port = server.server_address[1]
    resolver = hosts({"files.test": "127.0.0.1", "other.test": "127.0.0.1"})
    allow = AllowList(("files.test", "other.test"))
    try:
        response = fetch(f"https://files.test:{port}/ok", allow=allow, resolver=resolver,
                         ca_certs=cert)
        assert response.body == f"host=files.test:{port}".encode() and names == ["files.test"]
        with pytest.raises(Unreachable):   # the certificate is checked against the URL's host
            fetch(f"https://other.test:{port}/ok", allow=allow, resolver=resolver, ca_certs=cert)
    finally:
        fetch_servers.stop(server)


def test_non_ascii_paths_are_sent_percent_encoded(server):
    assert fetch(f"{server.url}/päth?q=ü", allow=LOCAL).status == 404
    assert server.paths == ["/p%C3%A4th?q=%C3%BC"]
