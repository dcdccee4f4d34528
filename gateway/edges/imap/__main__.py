"""Command line of the IMAP channel.

    python -m gateway.edges.imap                       poll every mailbox of every workspace
    python -m gateway.edges.imap backfill WORKSPACE MAILBOX [--since YYYY-MM-DD] [--folder F ...]
    python -m gateway.edges.imap status                per-mailbox health as JSON

Settings come from the environment (REDIS_URL, DATABASE_URL, TICKETGATE_CONFIG; docs/imap.md).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from datetime import date

from redis import Redis

from config.logs import configure_logging
from config.settings import load_settings
from gateway.edges.imap import health, service
from gateway.edges.imap.backfill import Backfill
from gateway.edges.imap.sync import Deps
from queues.intake import Intake, IntakeUnavailable
from queues.runtime import build_runtime

REDIS_SOCKET_TIMEOUT_S = 10


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gateway.edges.imap", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="poll every configured mailbox (the default)")
    backfill = commands.add_parser("backfill", help="enqueue a mailbox's existing mail")
    backfill.add_argument("workspace")
    backfill.add_argument("mailbox")
    backfill.add_argument("--since", type=date.fromisoformat, metavar="YYYY-MM-DD",
                          help="only mail the server received on or after this day")
    backfill.add_argument("--folder", action="append", dest="folders",
                          help="folder to backfill (repeatable; default: the mailbox's folders)")
    backfill.add_argument("--no-progress", action="store_true", help="no progress bar")
    commands.add_parser("status", help="print per-mailbox health as JSON")
    return parser.parse_args(argv)


def build_deps():
    settings = load_settings()
    rt = build_runtime(settings)
    redis = Redis.from_url(settings.redis_url, socket_timeout=REDIS_SOCKET_TIMEOUT_S,
                           socket_connect_timeout=REDIS_SOCKET_TIMEOUT_S)
    return rt, Deps(sessions=rt.sessions, intake=Intake(redis))


def run_backfill(args, rt, deps) -> int:
    workspace = rt.config.workspace(args.workspace)
    if workspace is None:
        print(f"no workspace {args.workspace!r} in the workspace file", file=sys.stderr)
        return 2
    mailbox = workspace.channels.mailbox(args.mailbox)
    if mailbox is None:
        print(f"workspace {args.workspace} has no mailbox {args.mailbox!r}", file=sys.stderr)
        return 2
    try:
        result = Backfill(args.workspace, mailbox, deps, progress_bar=not args.no_progress).run(
            args.since, args.folders)
    except IntakeUnavailable as exc:
        print(f"backfill stopped, the queue is unavailable ({exc}); rerun it later: "
              "reruns are harmless", file=sys.stderr)
        return 1
    print(f"enqueued {result.enqueued} message(s) from {args.workspace}/{args.mailbox}")
    for folder, uid in result.unfetchable:
        print(f"could not fetch {folder} UID {uid} (quarantine entry imap_fetch_failed)")
    return 0 if not result.unfetchable else 1


def main(argv=None) -> int:
    args = parse_args(argv)
    configure_logging("imap")
    logging.getLogger("rq").setLevel(logging.WARNING)
    stop = threading.Event()
    if args.command in (None, "run"):  # before the slow set-up: an early SIGTERM is graceful
        service.install_signal_handlers(stop)
    rt, deps = build_deps()
    if args.command == "backfill":
        return run_backfill(args, rt, deps)
    if args.command == "status":
        print(json.dumps(health.mailbox_status(rt.read_sessions, rt.config), indent=2))
        return 0
    service.serve(rt.config, deps, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
