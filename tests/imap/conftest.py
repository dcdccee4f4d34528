"""Fixtures of the IMAP tests: one private Dovecot per session, a fresh IMAP user per test.

The IMAP tests are skipped, with the reason shown, when Dovecot is not installed
(Debian package dovecot-imapd; ``.ci/run`` installs it).
"""
from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.imap import dovecot as dovecot_runner

PASSWORD_ENV = "TG_TEST_IMAP_PASSWORD"
_users = itertools.count(1)


@pytest.fixture(scope="session")
def dovecot():
    executable = dovecot_runner.binary()
    if executable is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd): "
                    "the IMAP tests need a real IMAP server")
    # Not pytest's tmp dir: that one is private to us (0700), and Dovecot's mail processes
    # run as nobody when we are root.
    root = Path(tempfile.mkdtemp(prefix="tg-dovecot-"))
    server = dovecot_runner.Dovecot(root, executable)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap_user(dovecot, monkeypatch):
    """A new, empty IMAP account (its password is in ``PASSWORD_ENV``)."""
    monkeypatch.setenv(PASSWORD_ENV, dovecot_runner.PASSWORD)
    return dovecot.add_user(f"user{next(_users)}")


@pytest.fixture
def imap(dovecot, imap_user):
    """A second IMAP client (another mail program) logged in as the test's user."""
    client = dovecot.client(imap_user)
    yield client
    try:
        client.logout()
    except Exception:
        pass
