"""A fault injector for isolation tests: the real email adapter, wrapped so that a marked mail
fails in a chosen way.

Tests register it in the adapter table (``workers.ingest.normalize.ADAPTERS["email"] = ADAPTER``, as
``tests/integration/fault_worker.py`` does for a worker process). A mail carrying the header
``X-Test-Fault: <kind>`` fails as ``kind`` says; every other mail goes through the real adapter
untouched. Why a wrapper and not real broken mail: the parsers' own bugs (the issue's
``charset="x\\0"``, utf-7 and ``<![`` mails) are being fixed, and a test of the isolation must
keep failing the same way after those fixes. Nothing here fakes Redis or the database.
"""
from __future__ import annotations

import os
import re
import signal
import time

from workers.ingest.isolation import Transient
from workers.ingest.normalize import normalize_email

KILL_ALLOWED = False  # set only in a worker process of its own (tests/integration/fault_worker.py)
FAULT = re.compile(rb"^X-Test-Fault: (\w+)", re.MULTILINE)


def email_with_faults(raw: bytes, envelope: dict, runtime):
    match = FAULT.search(raw.split(b"\n\n", 1)[0].replace(b"\r\n", b"\n"))
    if match:
        FAULTS[match.group(1).decode()]()
    return normalize_email(raw, envelope, runtime)


def raise_value_error():
    # the shape of the first reproduction of issue 10: a ValueError whose text holds a NUL
    raise ValueError("unknown encoding: 'x\x00' in a text/plain part")


def burn_cpu():
    """Real CPU work without end: only the per-message CPU budget stops it."""
    total = 0
    while True:
        total += sum(i * i for i in range(10_000))


def sleep_long():
    """Wall time without CPU: the CPU budget does not see it; RQ's job timeout does."""
    time.sleep(600)


def allocate_too_much():
    bytearray(1 << 50)  # a petabyte: the allocator refuses, Python raises MemoryError


def kill_worker():
    """Die as the OOM killer would make a worker die: no exception, no cleanup. The whole
    process group goes, so RQ's scheduler child (if one was forked) does not linger."""
    if not KILL_ALLOWED:
        raise RuntimeError("the kill fault runs only in a fault worker process")
    os.killpg(os.getpgid(0), signal.SIGKILL)


def remote_down():
    raise Transient("remote file server: 503 Service Unavailable")


FAULTS = {"raise": raise_value_error, "burn": burn_cpu, "sleep": sleep_long,
          "memory": allocate_too_much, "kill": kill_worker, "transient": remote_down}


ADAPTER = email_with_faults
