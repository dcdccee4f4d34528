"""The SMTP edge (aiosmtpd): accept mail for configured workspaces, make it durable, answer.

RCPT is checked against the workspaces (``550 5.1.1`` otherwise: never an open relay). DATA is
stored as a blob and enqueued on the ``email`` queue *before* ``250``; when that fails the client
gets ``451 4.3.0`` and retries, so nothing acknowledged is lost. The blocking blob write and
enqueue run in a thread so one slow message never stalls the other sessions. Size, session
caps and timeouts are enforced by the session class (gateway/edges/smtp/session.py).

Run it: ``python -m gateway.edges.smtp`` (host, port and limits from the environment).
"""
from __future__ import annotations

import asyncio
import logging
import signal
import socket
import ssl

from config.workspaces import Config
from queues import metrics
from queues.group_commit import GroupCommit
from queues.intake import Intake, IntakeUnavailable, Submission
from gateway.edges.smtp.limits import SessionGate, SmtpLimits
from gateway.edges.smtp.session import LimitedSMTP, SessionDoor

log = logging.getLogger(__name__)
MAX_RECIPIENTS = 100          # per message; more gets 452 (RFC 5321 minimum is 100)
ACCOUNT = "smtp"
# Mail up to this size is enqueued on the event loop, in group commits: one local Redis round
# trip (~0.4 ms, bounded by REDIS_SOCKET_TIMEOUT_S) costs less than the hop to a thread, which
# cut throughput by a fifth. Larger mail (hashing and sending megabytes) goes to a thread so no
# session waits on it.
INLINE_ACCEPT_MAX_BYTES = 256 * 1024
REDIS_SOCKET_TIMEOUT_S = 5  # a hung Redis stalls the loop at most this long, then 451


class SmtpEdge:
    """aiosmtpd handler: every hook returns the SMTP reply itself."""

    def __init__(self, config: Config, intake: Intake, gate: SessionGate | None = None):
        self.config = config
        self.intake = intake
        self.gate = gate or SessionGate()  # counts sessions for LimitedSMTP
        self.group = GroupCommit(intake, lambda: self.gate.senders)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        if self.config.workspace_for_address(address) is None:
            return f"550 5.1.1 <{address}>: recipient not accepted here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        groups = self._by_workspace(envelope.rcpt_tos)
        meta = {"mail_from": envelope.mail_from, "peer": str(session.peer[0])}
        try:
            queued = await self._accept_off_loop_if_large(raw, groups, meta)
        except IntakeUnavailable as exc:
            log.warning("451 for mail from %s: %s", envelope.mail_from, exc)
            metrics.incr(self.intake.redis, "enqueue_failures", "email")
            return "451 4.3.0 Temporary failure, please try again later"
        except Exception:  # never a 5xx for our own failure: the sender would bounce the mail
            log.exception("unexpected failure accepting mail from %s", envelope.mail_from)
            return "451 4.3.0 Temporary failure, please try again later"
        return f"250 2.0.0 Ok: queued as {queued}"

    async def _accept_off_loop_if_large(self, raw: bytes, groups, meta) -> str:
        submissions = [Submission("email", slug, ACCOUNT, raw, {**meta, "rcpt_to": recipients})
                       for slug, recipients in groups.items()]
        if len(raw) <= INLINE_ACCEPT_MAX_BYTES:
            envelopes = await self.group.submit(submissions)
        else:
            loop = asyncio.get_running_loop()
            envelopes = await loop.run_in_executor(None, self.intake.accept_many, submissions)
        return " ".join(dict.fromkeys(e["job_id"] for e in envelopes))

    def _by_workspace(self, recipients: list[str]) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for address in recipients:
            slug = self.config.workspace_for_address(address).slug
            groups.setdefault(slug, []).append(address)
        return groups


def smtp_factory(handler: SmtpEdge, size_limit: int, tls: ssl.SSLContext | None = None):
    if size_limit <= 0:  # aiosmtpd reads 0 as "no limit": unbounded memory per session
        raise ValueError(f"SMTP_SIZE_LIMIT must be a positive number of bytes, not {size_limit}")
    hostname = socket.getfqdn()  # once: aiosmtpd would look it up for every connection

    def new_session(peer_address: str) -> LimitedSMTP:
        return LimitedSMTP(handler, peer_address, data_size_limit=size_limit,
                           enable_SMTPUTF8=True, tls_context=tls, hostname=hostname)

    def factory():
        return SessionDoor(handler.gate, new_session)
    return factory


def tls_context(cert: str, key: str) -> ssl.SSLContext | None:
    if not (cert and key):
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def serve(settings, config: Config, intake: Intake) -> None:
    loop = asyncio.get_running_loop()
    handler = SmtpEdge(config, intake, SessionGate(SmtpLimits.from_settings(settings)))
    factory = smtp_factory(handler, settings.smtp_size_limit,
                           tls_context(settings.smtp_tls_cert, settings.smtp_tls_key))
    server = await loop.create_server(factory, host=settings.smtp_host, port=settings.smtp_port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("SMTP edge listening on %s:%s", settings.smtp_host, settings.smtp_port)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main() -> None:
    from redis import Redis

    from config.logs import configure_logging
    from config.settings import load_settings
    from config.workspaces import load_config

    configure_logging("smtp")
    for chatty in ("mail.log", "rq"):  # a line per SMTP command / enqueue costs 15 % of the edge
        logging.getLogger(chatty).setLevel(logging.WARNING)
    settings = load_settings()
    intake = Intake(Redis.from_url(settings.redis_url, socket_timeout=REDIS_SOCKET_TIMEOUT_S,
                                    socket_connect_timeout=REDIS_SOCKET_TIMEOUT_S))
    asyncio.run(serve(settings, load_config(settings.config_path), intake))

