"""Sending the local outbox through the relay once ``SMTP_RELAY_URL`` is set.

``python -m workers.outbound.flush [--workspace SLUG] [--dry-run]``: every waiting entry
(``workers.outbound.outbox``) goes to the relay exactly as it was kept (same bytes, same
Message-ID), and its message becomes ``sent``. Safe to run any time, also twice at once: each
entry is claimed before it is sent, so it is sent once. A transient failure (relay down, 4xx)
leaves the entry waiting for the next flush; a permanent one (5xx for every recipient, the kept
mail gone from the blob store) marks the message ``failed`` with the reason. After
``GIVE_UP_AFTER`` transient failures in a row the flush stops: the relay is down, the rest
waits. ``--dry-run`` lists what would be sent, sends nothing and needs no relay.

Exit status: 0 when everything waiting was sent (or listed), 1 when some mail failed or is
left for later, 2 when ``SMTP_RELAY_URL`` is unset or invalid.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass

from config.logs import configure_logging
from workers.outbound import outbox, relay
from workers.outbound.relay import PermanentFailure, TransientFailure
from queues.runtime import Runtime, runtime

GIVE_UP_AFTER = 3   # transient failures in a row that stop a flush (the relay is down)


class RelayMissing(Exception):
    """``SMTP_RELAY_URL`` is unset or not a relay URL: nothing can be sent."""


@dataclass
class Report:
    waiting: int = 0
    sent: int = 0
    failed: int = 0
    left: int = 0       # still waiting: a transient failure, or not reached after giving up

    def count(self, outcome: str) -> None:
        if outcome == "sent":
            self.sent += 1
        elif outcome == "failed":
            self.failed += 1
        elif outcome == "left":
            self.left += 1  # "taken elsewhere" is another flush's to count

    def summary(self) -> str:
        return (f"{self.waiting} waiting: {self.sent} sent, {self.failed} failed, "
                f"{self.left} left for a later flush")

    def exit_status(self) -> int:
        return 1 if self.failed or self.left else 0


def flush_with(rt: Runtime, workspace: str | None = None, dry_run: bool = False,
               out: Callable[[str], None] = print) -> Report:
    """Send (or with ``dry_run`` list) the waiting entries; one line per entry to ``out``."""
    settings = None if dry_run else relay_settings(rt)
    entries = outbox.waiting(rt, workspace)
    report = Report(waiting=len(entries))
    if settings is None:
        for entry in entries:
            out(_line("would send", entry))
        return report
    in_a_row = 0
    for index, entry in enumerate(entries):
        if in_a_row >= GIVE_UP_AFTER:
            report.left += len(entries) - index
            out(f"stopped after {in_a_row} transient failures in a row; the rest waits")
            break
        outcome, detail = send_one(rt, settings, entry)
        in_a_row = in_a_row + 1 if outcome == "left" else 0
        report.count(outcome)
        out(_line(outcome, entry) + (f" ({detail})" if detail else ""))
    return report


def relay_settings(rt: Runtime) -> relay.Relay:
    if not rt.settings.smtp_relay_url:
        raise RelayMissing("SMTP_RELAY_URL is unset: set it to the relay the outbox goes to")
    try:
        return relay.parse_url(rt.settings.smtp_relay_url)
    except ValueError as exc:
        raise RelayMissing(str(exc)) from None


def send_one(rt: Runtime, settings: relay.Relay, entry: outbox.Entry) -> tuple[str, str]:
    """Claim, send, record one entry: (``sent`` | ``failed`` | ``left`` | ``taken elsewhere``,
    detail)."""
    stamp = outbox.claim(rt, entry)
    if stamp is None:
        return "taken elsewhere", ""
    try:
        raw = rt.blobs.get(entry.raw_ref)
    except (OSError, ValueError) as exc:
        reason = f"the kept mail is missing from the blob store ({exc.__class__.__name__})"
        outbox.give_back(rt, entry, stamp, reason, permanent=True)
        return "failed", reason
    try:
        answer = relay.send_raw(settings, raw, entry.mail_from, entry.recipients)
    except (PermanentFailure, TransientFailure) as exc:
        permanent = isinstance(exc, PermanentFailure)
        outbox.give_back(rt, entry, stamp, str(exc), permanent=permanent)
        return ("failed" if permanent else "left"), str(exc)
    outbox.finish(rt, entry, f"sent from the outbox through {settings.host}:{settings.port}: "
                             f"{answer}")
    return "sent", ""


def _line(outcome: str, entry: outbox.Entry) -> str:
    return (f"{outcome}: outbox #{entry.id} [{entry.workspace}] to "
            f"{', '.join(entry.recipients)}: {entry.subject}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.outbound.flush",
                                     description="Send the mail kept in the local outbox "
                                                 "through SMTP_RELAY_URL.")
    parser.add_argument("--workspace", metavar="SLUG", help="only this workspace's mail")
    parser.add_argument("--dry-run", action="store_true",
                        help="list what would be sent; send nothing")
    args = parser.parse_args(argv)
    configure_logging("flush")  # a relay URL in an error may hold its password: masked
    try:
        report = flush_with(runtime(), args.workspace, args.dry_run)
    except RelayMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    return report.exit_status()


if __name__ == "__main__":
    sys.exit(main())
