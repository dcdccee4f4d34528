"""IMAP backfill throughput and memory: N generated messages in a private Dovecot, then
``python -m gateway.edges.imap backfill`` timed until every message is durably enqueued.

The Dovecot is the test suite's (tests/imap/dovecot.py); the mail is bench/mailgen.py's
(replies, charsets, HTML parts, 20 KiB attachments). The backfill runs as its own process, so
its peak memory (VmHWM, read in that process) is its alone; the time of an empty backfill
run (process start, imports, login) is measured too and shown apart.

    .venv/bin/python -m bench.imap_backfill --messages 10000 [--redis-url redis://127.0.0.1:6379/14]

The Redis database given is flushed first.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
import yaml
from rq import Queue

from bench.common import PROJECT_DIR, bench_env
from bench.mailgen import generate
from store.migrate import upgrade
from tests.imap.dovecot import PASSWORD, Dovecot, binary

APPEND_CHUNK = 500  # messages per MULTIAPPEND


def fill(server: Dovecot, user: str, count: int) -> float:
    """APPEND ``count`` generated messages; returns the mail's total size in MiB."""
    raws = generate(count)
    client = server.client(user)
    try:
        for start in range(0, count, APPEND_CHUNK):
            client.multiappend("INBOX", raws[start:start + APPEND_CHUNK])
    finally:
        client.logout()
    return sum(len(r) for r in raws) / 2**20


def write_config(path: Path, server: Dovecot, user: str) -> None:
    mailbox = {"name": "support", "host": "127.0.0.1", "port": server.port, "security": "none",
               "user": user, "password_env": "BENCH_IMAP_PASSWORD"}
    path.write_text(yaml.safe_dump({"workspaces": [
        {"slug": "demo", "name": "Demo", "domains": ["demo.test"],
         "channels": {"mailboxes": [mailbox]}}]}))


# Runs the real command line, then reports its own peak memory. Not getrusage's ru_maxrss:
# Linux carries it over fork + exec, so the child would report this process's peak (the
# generated mail) as its own. VmHWM belongs to the new program's memory only.
WRAPPER = """
import runpy, sys
sys.argv = ["gateway.edges.imap"] + sys.argv[1:]
try:
    runpy.run_module("gateway.edges.imap", run_name="__main__")
finally:
    hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
    print("PEAK_RSS_KB", hwm)
"""


def run_backfill(env: dict, extra: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak MiB, summary line) of one backfill run."""
    args = [sys.executable, "-c", WRAPPER, "backfill", "demo", "support", *extra]
    start = time.perf_counter()
    result = subprocess.run(args, env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"backfill failed:\n{result.stdout}\n{result.stderr[-3000:]}")
    lines = result.stdout.strip().splitlines()
    peak_kb = int(next(line for line in lines if line.startswith("PEAK_RSS_KB")).split()[1])
    summary = "\n".join(line for line in lines if not line.startswith("PEAK_RSS_KB"))
    return elapsed, peak_kb / 1024, summary


def queued(conn) -> int:
    return sum(len(job.args[0]) for job in Queue("email", connection=conn).get_jobs())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    if binary() is None:
        raise SystemExit("dovecot is not installed (apt-get install dovecot-imapd)")
    print("command:", " ".join([Path(sys.executable).name, "-m", "bench.imap_backfill",
                                *sys.argv[1:]]))
    conn = redis.Redis.from_url(args.redis_url)
    conn.flushdb()
    work = Path(tempfile.mkdtemp(prefix="tg-bench-imap-"))
    work.chmod(0o755)  # Dovecot's mail processes run as nobody when we are root
    server = Dovecot(work / "dovecot")
    server.start()
    try:
        user = server.add_user("bench")
        started = time.perf_counter()
        megabytes = fill(server, user, args.messages)
        print(f"appended {args.messages} messages ({megabytes:.1f} MiB) to Dovecot in "
              f"{time.perf_counter() - started:.1f} s")
        upgrade(f"sqlite:///{work / 'store.db'}")
        write_config(work / "workspaces.yaml", server, user)
        env = bench_env(REDIS_URL=args.redis_url, DATABASE_URL=f"sqlite:///{work / 'store.db'}",
                        TICKETGATE_CONFIG=str(work / "workspaces.yaml"),
                        BLOB_DIR=str(work / "blobs"), BENCH_IMAP_PASSWORD=PASSWORD)
        empty_s, empty_mb, _ = run_backfill(env, ["--since", "2999-01-01", "--no-progress"])
        elapsed, peak_mb, summary = run_backfill(env, [])
        enqueued = queued(conn)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    work_s = elapsed - empty_s
    print(summary)
    print(f"enqueued (on the email queue): {enqueued}")
    print(f"backfill wall time: {elapsed:.2f} s, of which start-up/login {empty_s:.2f} s")
    print(f"throughput: {args.messages / elapsed:.0f} messages/s end to end, "
          f"{args.messages / work_s:.0f} messages/s after start-up")
    print(f"peak memory of the backfill process: {peak_mb:.0f} MiB (VmHWM; "
          f"{empty_mb:.0f} MiB for an empty run)")


if __name__ == "__main__":
    main()
