"""Address classification and the allow list of server-side fetches (pure, no network), and the
``fetch_allow_hosts`` setting of the workspace file."""
from __future__ import annotations

import copy
import ipaddress

import pytest

from config.workspaces import ConfigError, parse_config
from tests.conftest import TEST_CONFIG
from workers.fetch.policy import AllowList, Refused, check, forbidden_reason


def ip(text: str):
    return ipaddress.ip_address(text)


@pytest.mark.parametrize("address, label", [
    ("127.0.0.1", "loopback"), ("127.255.255.254", "loopback"), ("::1", "loopback"),
    ("10.0.0.1", "private"), ("172.16.0.1", "private"), ("172.31.255.255", "private"),
    ("192.168.0.1", "private"),
    ("169.254.169.254", "link-local (cloud metadata)"), ("169.254.0.1", "link-local"),
    ("fe80::1", "link-local"), ("100.64.0.1", "shared (CGNAT)"),
    ("100.127.255.254", "shared (CGNAT)"), ("fc00::1", "unique-local"),
    ("fd12:3456::1", "unique-local"), ("fec0::1", "site-local"),
    ("224.0.0.1", "multicast"), ("239.255.255.250", "multicast"), ("ff02::1", "multicast"),
    ("255.255.255.255", "broadcast"), ("240.0.0.1", "reserved"),
    ("0.0.0.0", "unspecified"), ("0.1.2.3", "unspecified"), ("::", "unspecified"),
    ("192.0.0.8", "reserved (IETF protocol)"),
    ("192.0.2.1", "reserved or special-purpose"), ("198.18.0.1", "reserved or special-purpose"),
    ("2001:db8::1", "reserved or special-purpose"),
    ("::ffff:127.0.0.1", "loopback (as 127.0.0.1)"), ("::ffff:10.1.1.1", "private (as 10.1.1.1)"),
    ("::ffff:169.254.169.254", "link-local (cloud metadata) (as 169.254.169.254)"),
    ("2002:7f00:1::", "loopback (as 127.0.0.1)"), ("2002:a00:1::", "private (as 10.0.0.1)"),
    ("64:ff9b::a9fe:a9fe", "link-local (cloud metadata) (as 169.254.169.254)"),
    ("::7f00:1", "loopback (as 127.0.0.1)"),
])
def test_non_public_addresses_are_forbidden_with_their_range_named(address, label):
    assert forbidden_reason(ip(address)) == label


@pytest.mark.parametrize("address", [
    "93.184.216.34", "8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.0", "172.32.0.1",
    "2606:4700:4700::1111", "2a00:1450::1", "::ffff:8.8.8.8", "64:ff9b::808:808",
    "2002:808:808::"])
def test_public_unicast_addresses_are_allowed(address):
    assert forbidden_reason(ip(address)) == ""


def test_check_needs_every_address_to_pass():
    assert check("example.test", [ip("93.184.216.34")], AllowList()) == [ip("93.184.216.34")]
    with pytest.raises(Refused, match=r"example.test \(10.0.0.1\) is a private address"):
        check("example.test", [ip("93.184.216.34"), ip("10.0.0.1")], AllowList())
    with pytest.raises(Refused, match="no address"):
        check("example.test", [], AllowList())


def test_a_listed_host_name_admits_what_it_resolves_to():
    allow = AllowList(("files.internal",))
    assert check("Files.Internal.", [ip("10.0.0.7")], allow) == [ip("10.0.0.7")]
    with pytest.raises(Refused):
        check("other.internal", [ip("10.0.0.7")], allow)


def test_a_listed_address_or_network_admits_only_its_addresses():
    allow = AllowList(("127.0.0.1", "10.20.0.0/16", "fd00::/8"))
    assert check("127.0.0.1", [ip("127.0.0.1")], allow)
    assert check("svc.test", [ip("10.20.3.4"), ip("fd00::5")], allow)
    with pytest.raises(Refused, match="127.0.0.2 is a loopback"):
        check("127.0.0.2", [ip("127.0.0.2")], allow)
    with pytest.raises(Refused, match="10.21.0.1"):
        check("svc.test", [ip("10.20.3.4"), ip("10.21.0.1")], allow)


def test_allow_list_of_a_workspace():
    config = workspace_file(["LocalHost.", "[::1]", "10.0.0.0/8", "127.0.0.1"])
    assert AllowList.of(config.workspace("demo")).entries == (
        "localhost", "::1", "10.0.0.0/8", "127.0.0.1")
    assert AllowList.of(config.workspace("acme")).entries == ()
    assert AllowList.of(None).entries == ()


@pytest.mark.parametrize("entry", ["http://files.test", "*.files.test", "a b", "10.0.0.0/33",
                                   "files.test/path", ""])
def test_a_bad_allow_list_entry_is_a_config_error_naming_the_key(entry):
    with pytest.raises(ConfigError, match="workspaces.0.fetch_allow_hosts"):
        workspace_file([entry])


def workspace_file(entries: list[str]):
    data = copy.deepcopy(TEST_CONFIG)
    data["workspaces"][0]["fetch_allow_hosts"] = entries
    return parse_config(data)
