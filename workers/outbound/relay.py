"""Sending mail through the relay of ``SMTP_RELAY_URL`` with smtplib: a built message (``send``)
or the bytes of one kept in the local outbox (``send_raw``).

``smtp://user:pass@host:587?starttls=1`` (STARTTLS when asked, login when a user is given) or
``smtps://…:465`` (TLS from the start). A failure is *transient* (connection refused, 4xx,
timeouts: the job retries with backoff) or *permanent* (5xx for every recipient: the reply is
marked failed with the server's answer).
"""
from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

TIMEOUT_S = 30
TRUE = ("1", "true", "yes", "on")


class TransientFailure(Exception):
    """Try again later."""


class PermanentFailure(Exception):
    """Trying again cannot help; the reason is the message."""


@dataclass(frozen=True)
class Relay:
    host: str
    port: int
    user: str = ""
    password: str = ""
    tls: bool = False          # smtps: TLS from the first byte
    starttls: bool = False


def parse_url(url: str) -> Relay:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_RELAY_URL must look like smtp://user:pass@host:587?starttls=1")
    query = parse_qs(parts.query)
    tls = parts.scheme == "smtps"
    return Relay(host=parts.hostname, port=parts.port or (465 if tls else 25),
                 user=unquote(parts.username or ""), password=unquote(parts.password or ""),
                 tls=tls, starttls=query.get("starttls", ["0"])[0].lower() in TRUE)


def send(relay: Relay, message: EmailMessage, mail_from: str, recipients: list[str]) -> str:
    """Hand ``message`` to the relay; returns the relay's answer; raises a failure class."""
    return _submit(relay, lambda client: client.send_message(message, from_addr=mail_from,
                                                             to_addrs=recipients))


def send_raw(relay: Relay, raw: bytes, mail_from: str, recipients: list[str]) -> str:
    """Hand mail kept as bytes (the local outbox) to the relay, like ``send``: unchanged but
    for line ends, CRLF as SMTP wants (``as_bytes`` keeps LF; some relays refuse bare LF)."""
    international = not all(address.isascii() for address in [mail_from, *recipients])
    options = ["SMTPUTF8"] if international else []
    data = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return _submit(relay, lambda client: client.sendmail(mail_from, recipients, data,
                                                         mail_options=options))


def _submit(relay: Relay, hand_over: Callable[[smtplib.SMTP], dict]) -> str:
    """Connect, ``hand_over`` the mail (it returns the refused recipients), classify failures."""
    try:
        with _connect(relay) as client:
            refused = hand_over(client)
    except smtplib.SMTPRecipientsRefused as exc:
        raise _classify(exc.recipients) from exc
    except smtplib.SMTPResponseException as exc:
        reason = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        if 500 <= exc.smtp_code < 600:
            raise PermanentFailure(reason) from exc
        raise TransientFailure(reason) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientFailure(f"{exc.__class__.__name__}: {exc}") from exc
    if refused:
        return "accepted for some recipients; refused: " + ", ".join(sorted(refused))
    return "accepted"


def _connect(relay: Relay) -> smtplib.SMTP:
    if relay.tls:
        client = smtplib.SMTP_SSL(relay.host, relay.port, timeout=TIMEOUT_S,
                                  context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(relay.host, relay.port, timeout=TIMEOUT_S)
    try:
        if relay.starttls:
            client.starttls(context=ssl.create_default_context())
        if relay.user:
            client.login(relay.user, relay.password)
    except BaseException:
        client.close()
        raise
    return client


def _classify(recipients: dict) -> Exception:
    """Every recipient refused: permanent if every refusal was 5xx."""
    reasons = [f"{rcpt}: {code} {_text(text)}" for rcpt, (code, text) in recipients.items()]
    if all(500 <= code < 600 for code, _ in recipients.values()):
        return PermanentFailure("; ".join(reasons))
    return TransientFailure("; ".join(reasons))


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
