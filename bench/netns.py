"""Hosts made of Linux network namespaces for the benchmarks (``bench.multihost``): a bridge on
this machine with no uplink and no default route, and one namespace per host with a veth on it,
so a namespace reaches nothing but the bridge. Names carry this process's pid, so the
namespaces, bridges and folders a SIGKILLed run leaves are found and removed by the next one.
Needs root, ``ip`` (iproute2) and socat (the forwarder to loopback-only services).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PREFIX = "tgmh"               # bridge tgmh<pid>, namespaces tgmh<pid>h<i>, veths tgmh<pid>v<i>
SUBNET = "10.213.{}"          # + pid % 256: the bridge is .1, host i is .(i + 1), a /24
APT_PACKAGES = ("iproute2", "socat")


def check_prerequisites(install: bool) -> None:
    if os.geteuid() != 0:
        sys.exit("bench.multihost makes network namespaces: run it as root")
    missing = [tool for tool in ("ip", "socat") if shutil.which(tool) is None]
    if missing and install:
        subprocess.run(["apt-get", "update", "-q"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-q", *APT_PACKAGES], check=True)
    elif missing:
        sys.exit(f"missing {', '.join(missing)}: apt-get install -y {' '.join(APT_PACKAGES)} "
                 "(or run with --install-prerequisites)")


def ip(*args: str, check: bool = True) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and done.returncode:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


@dataclass(frozen=True)
class Network:
    """A bridge on this machine and one namespace per host, each with a veth on the bridge."""
    tag: str
    subnet: str
    hosts: int

    @property
    def bridge_ip(self) -> str:
        return f"{self.subnet}.1"

    def namespace(self, i: int) -> str:
        return f"{self.tag}h{i}"

    def host_ip(self, i: int) -> str:
        return f"{self.subnet}.{i + 1}"


def build_network(hosts: int) -> Network:
    pid = os.getpid()
    net = Network(tag=f"{PREFIX}{pid}", subnet=SUBNET.format(pid % 256), hosts=hosts)
    ip("link", "add", net.tag, "type", "bridge")
    ip("addr", "add", f"{net.bridge_ip}/24", "dev", net.tag)
    ip("link", "set", net.tag, "up")
    for i in range(1, hosts + 1):
        add_host(net, i)
    return net


def add_host(net: Network, i: int) -> None:
    ns, veth = net.namespace(i), f"{net.tag}v{i}"
    ip("netns", "add", ns)
    ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
    ip("link", "set", veth, "master", net.tag, "up")
    ip("-n", ns, "addr", "add", f"{net.host_ip(i)}/24", "dev", "eth0")
    ip("-n", ns, "link", "set", "eth0", "up")
    ip("-n", ns, "link", "set", "lo", "up")


def tear_down(net: Network) -> None:
    """Deleting a namespace deletes its veth pair; then the bridge."""
    for i in range(1, net.hosts + 1):
        ip("netns", "del", net.namespace(i), check=False)
    ip("link", "del", net.tag, check=False)


def remove_leftovers() -> None:
    """Namespaces, bridges and folders of earlier runs whose process is gone (SIGKILL)."""
    for name in ip("netns", "list").split():
        match = re.fullmatch(rf"{PREFIX}(\d+)h\d+", name)
        if match and not alive(int(match.group(1))):
            ip("netns", "del", name, check=False)
    for name in re.findall(rf"\d+: ({PREFIX}\d+)[:@]", ip("-o", "link", "show", "type", "bridge")):
        if not alive(int(name[len(PREFIX):])):
            ip("link", "del", name, check=False)
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*-*"):
        match = re.fullmatch(rf"{PREFIX}(\d+)-.*", folder.name)
        if match and not alive(int(match.group(1))):
            shutil.rmtree(folder, ignore_errors=True)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
