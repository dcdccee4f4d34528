"""Talking IMAP through imapclient: log in as a configured mailbox, select a folder, fetch raw
mail without setting ``\\Seen``, and carry out the post-action.

Fetching uses ``BODY.PEEK[]`` (the exact RFC 822 bytes, flags untouched). The post-actions:
``flag`` adds ``\\Flagged``; ``move`` uses MOVE (RFC 6851) when offered, else COPY +
``\\Deleted`` + expunge, and creates the target folder when the server answers TRYCREATE;
``delete`` sets ``\\Deleted`` and expunges only those UIDs when UIDPLUS is offered (else a plain
EXPUNGE, which also removes mail others marked ``\\Deleted``).
"""
from __future__ import annotations

import imaplib
import socket
import ssl

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from config.channels import Mailbox, secret

SOCKET_TIMEOUT_S = 60.0   # a server silent this long (outside IDLE) is treated as gone
BODY = b"BODY[]"
SIZE = b"RFC822.SIZE"
# Errors that mean "this connection (or server) is unusable now": reconnect with backoff.
CONNECTION_ERRORS = (IMAPClientError, imaplib.IMAP4.error, OSError, socket.timeout,
                     ssl.SSLError, EOFError)


class MailboxConfigError(RuntimeError):
    """The mailbox cannot be used as configured (e.g. its password variable is unset)."""


def connect(mailbox: Mailbox, timeout: float = SOCKET_TIMEOUT_S, environ=None) -> IMAPClient:
    """A logged-in client for ``mailbox`` (TLS, STARTTLS or plain, as configured)."""
    password = secret(mailbox.password_env, environ)
    if not password:
        raise MailboxConfigError(f"mailbox {mailbox.name}: environment variable "
                                 f"{mailbox.password_env or '(none)'} is not set")
    context = ssl.create_default_context()
    client = IMAPClient(mailbox.host, mailbox.port, ssl=mailbox.security == "tls",
                        ssl_context=context, timeout=timeout)
    try:
        if mailbox.security == "starttls":
            client.starttls(context)
        client.login(mailbox.user, password)
    except BaseException:
        close(client)
        raise
    return client


def close(client: IMAPClient | None) -> None:
    """Log out politely if the connection still works; never raise."""
    if client is None:
        return
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:
            pass


def select(client: IMAPClient, folder: str, writable: bool) -> int:
    """Select ``folder`` (read-only unless a post-action must change it); its UIDVALIDITY."""
    response = client.select_folder(folder, readonly=not writable)
    return int(response[b"UIDVALIDITY"])


def search_uids(client: IMAPClient, criteria: list[str]) -> list[int]:
    return [int(u) for u in client.search(criteria)]


def fetch_sizes(client: IMAPClient, uids: list[int], chunk: int = 1000) -> dict[int, int]:
    sizes: dict[int, int] = {}
    for start in range(0, len(uids), chunk):
        response = client.fetch(uids[start:start + chunk], [SIZE])
        sizes.update({uid: int(data.get(SIZE, 0)) for uid, data in response.items()})
    return sizes


def fetch_raw(client: IMAPClient, uids: list[int]) -> dict[int, bytes]:
    """Raw bytes of each UID the server returned (a UID expunged meanwhile is simply absent)."""
    response = client.fetch(uids, ["BODY.PEEK[]"])
    return {uid: bytes(data[BODY]) for uid, data in response.items()
            if uid in uids and data.get(BODY) is not None}


def supports_idle(client: IMAPClient) -> bool:
    return client.has_capability("IDLE")


def post_action(client: IMAPClient, mailbox: Mailbox, uids: list[int]) -> None:
    """Carry out the mailbox's post-action on ``uids`` (which are durably enqueued)."""
    if not uids or mailbox.post_action == "none":
        return
    if mailbox.post_action == "flag":
        client.add_flags(uids, [b"\\Flagged"], silent=True)
    elif mailbox.post_action == "move":
        _move(client, uids, mailbox.move_to)
    elif mailbox.post_action == "delete":
        client.add_flags(uids, [b"\\Deleted"], silent=True)
        _expunge(client, uids)


def _move(client: IMAPClient, uids: list[int], folder: str) -> None:
    """MOVE (or COPY); a missing target folder (``TRYCREATE``) is created and the move
    retried once."""
    try:
        _move_or_copy(client, uids, folder)
    except IMAPClientError as exc:
        if "TRYCREATE" not in str(exc):
            raise
        client.create_folder(folder)
        _move_or_copy(client, uids, folder)
    if not client.has_capability("MOVE"):
        client.add_flags(uids, [b"\\Deleted"], silent=True)
        _expunge(client, uids)


def _move_or_copy(client: IMAPClient, uids: list[int], folder: str) -> None:
    if client.has_capability("MOVE"):
        client.move(uids, folder)
    else:
        client.copy(uids, folder)


def _expunge(client: IMAPClient, uids: list[int]) -> None:
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    else:
        client.expunge()
