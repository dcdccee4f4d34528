"""The keys ticket tokens (``channels.tokens``) are signed and verified with.

``TICKETGATE_SIGNING_KEY`` may list several keys, comma-separated, newest first (a rotation):
new tokens are signed with the newest, and a token of any listed key verifies, so answers to
mail sent before a rotation still thread; a key removed from the list stops verifying. The
verifier tries every listed key (a forger's odds grow with the number of keys, 2^80 / k tries:
keep the list short, drop old keys).

Unset (or nothing but commas): one random key kept in ``<var dir>/signing.key``, created on
first use with mode 0600 (``config.private_files``), so a single-machine installation signs
with a secret of its own. Several machines must share the keys through the environment.

The environment is read on every call (a rotation needs no restart of the caller's code path);
callers pass the keys to the pure ``channels.tokens``.
"""
from __future__ import annotations

import os
from pathlib import Path

from config.private_files import read_or_create_secret
from config.settings import DEFAULT_VAR_DIR

KEY_ENV = "TICKETGATE_SIGNING_KEY"
KEY_SEPARATOR = ","                # TICKETGATE_SIGNING_KEY="newest,older": keys hold no comma
KEY_FILE = "signing.key"           # under TICKETGATE_VAR_DIR when the env variable is unset


def default_key(environ=None) -> str:
    """The key new tokens are signed with: the newest of ``signing_keys``."""
    return signing_keys(environ)[0]


def signing_keys(environ=None) -> tuple[str, ...]:
    """The keys tokens verify with, newest first: the comma-separated entries of
    ``TICKETGATE_SIGNING_KEY`` (blanks around them and empty or repeated entries ignored), else
    the one key of the private key file (module docstring)."""
    env = os.environ if environ is None else environ
    listed = [key.strip() for key in env.get(KEY_ENV, "").split(KEY_SEPARATOR)]
    keys = tuple(dict.fromkeys(key for key in listed if key))
    if keys:
        return keys
    return (read_or_create_secret(Path(env.get("TICKETGATE_VAR_DIR", DEFAULT_VAR_DIR))
                                  / KEY_FILE),)
