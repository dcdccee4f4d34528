"""`make run` as a newcomer runs it, under load: SMTP in, stored out, every process measured.

Starts the real launcher (``python -m gateway.ops.launch``: embedded Redis, SQLite in a fresh
var folder unless ``--db postgresql``, every Procfile process, one email worker per core unless
``--email-workers``), sends realistic generated mail over C SMTP connections in date order and
times from the first SMTP byte to the last message stored. Then it checks that every message
is stored once and that threading is whole (each reply on its conversation's ticket, one
ticket per conversation), and reports the peak RSS of every process of the launcher's tree, how
long the email workers' store transactions waited for and held their locks and where their
jobs spent wall and CPU time, phase by phase (both from the launcher's log:
``bench.launcher_log``), and how busy the machine was (the load average and the CPU time
others used while it ran).

Corpus: ``bench/mailgen.py`` with its samples plus ISO-8859-2 ones and 1,000 customers, so that
about a third of 3,000 mails are replies (In-Reply-To, References, quoted text); about one in
ten of the new mails has a 20 KiB PDF attached.

    .venv/bin/python -m bench.make_run --messages 3000 --clients 2
    .venv/bin/python -m bench.make_run --messages 3000 --clients 16
    .venv/bin/python -m bench.make_run --db postgresql --pg-url postgresql+psycopg://...
    .venv/bin/python -m bench.make_run --steady-rate 100 --seconds 30 --clients 4
    .venv/bin/python -m bench.make_run --compare --rounds 2   # set up as before, and now
    .venv/bin/python -m bench.make_run --peer                 # then django-helpdesk, same mails
"""
from __future__ import annotations

import argparse
import email
import os
import pickle
import resource
import tempfile
import time
from collections import Counter
from email.policy import default as default_policy
from pathlib import Path

from sqlalchemy import select, text

from bench.common import machine_cpu_seconds, percentile
from bench.cpu_meter import CpuMeter
from bench.mailgen import LATIN2_SAMPLES, SAMPLES, generate
from bench.launcher_log import job_phases, lock_times
from bench.make_run_launcher import Launcher
from bench.multihost_services import PostgresBackends, with_app_name
from bench.pipeline import latencies_ms, send_all, settled, wait_settled
from store.db import make_engine
from store.models import Message

CUSTOMERS = 1000  # with 3,000 mails: about a third are replies
CORPUS_VERSION = 1
def corpus(count: int) -> list[bytes]:
    cache = Path(tempfile.gettempdir()) / f"ticketgate-make-run-v{CORPUS_VERSION}-{count}.pickle"
    if not cache.exists():
        cache.write_bytes(pickle.dumps(generate(count, customers=CUSTOMERS,
                                                samples=SAMPLES + LATIN2_SAMPLES)))
    return pickle.loads(cache.read_bytes())


def describe_corpus(raws: list[bytes]) -> str:
    replies = sum(1 for raw in raws if b"\nIn-Reply-To:" in raw)
    latin2 = sum(1 for raw in raws if b"iso-8859-2" in raw.lower())
    attached = sum(1 for raw in raws if b"Content-Disposition: attachment" in raw)
    size = sum(map(len, raws)) / len(raws) / 1024
    return (f"{len(raws)} mails: {replies} replies ({replies / len(raws):.0%}), {latin2} in "
            f"ISO-8859-2, {attached} with an attachment, {size:.1f} KiB on average")


def threading_check(raws: list[bytes], database_url: str) -> tuple[int, int, int]:
    """(conversations in the corpus, tickets stored, messages not on their conversation's
    ticket or sharing a ticket with another conversation)."""
    root: dict[str, str] = {}
    for raw in raws:
        msg = email.message_from_bytes(raw, policy=default_policy)
        mid = str(msg["Message-ID"]).strip("<>")
        parent = str(msg.get("In-Reply-To", "")).strip("<>")
        root[mid] = root.get(parent, parent) if parent else mid
    with make_engine(database_url).connect() as conn:
        rows = conn.execute(select(Message.native_id, Message.ticket_id)
                            .where(Message.direction == "in")).all()
    ticket_of_root: dict[str, set[int]] = {}
    roots_of_ticket: dict[int, set[str]] = {}
    for native_id, ticket_id in rows:
        conversation = root.get(native_id.strip("<>"), native_id)
        ticket_of_root.setdefault(conversation, set()).add(ticket_id)
        roots_of_ticket.setdefault(ticket_id, set()).add(conversation)
    split = sum(len(t) - 1 for t in ticket_of_root.values())
    merged = sum(len(r) - 1 for r in roots_of_ticket.values())
    return len(set(root.values())), len(roots_of_ticket), split + merged


def fresh_postgres(url: str) -> str:
    with make_engine(url).begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    return url


# --compare: `make run` set up as before issue 12 (one email worker, a batch = one group-commit
# job: INGEST_BATCH_MAX=1) and with its defaults now, in alternating rounds of the same run.
BEFORE = {"label": "as before: 1 email worker, INGEST_BATCH_MAX=1", "email_workers": 1,
          "batch_max": 1}
NOW = {"label": "now: make run defaults", "email_workers": None, "batch_max": None}


def run(args) -> None:
    raws = corpus(args.steady_rate * args.seconds if args.steady_rate else args.messages)
    print(describe_corpus(raws))
    if not args.compare:
        rates = [run_once(args, raws, {"label": "", "email_workers": args.email_workers,
                                       "batch_max": args.batch_max})]
    else:
        rates = []
        for number in range(1, args.rounds + 1):
            for setup in (BEFORE, NOW):
                print(f"round {number}, {setup['label']}")
                rate = run_once(args, raws, setup)
                rates += [rate] if setup is NOW else []
    if args.peer:
        from bench.peer_helpdesk import PEER, peer_rate
        figures = peer_rate(raws)
        print(f"peer {PEER}, same mails, same machine, right after: {figures['rate']:.0f} msg/s "
              f"({figures['tickets']} tickets, {figures['followups']} follow-ups, "
              f"{figures['failed']} failed); ticketgate now / peer: "
              + ", ".join(f"{rate / figures['rate']:.1f}x" for rate in rates))


def run_once(args, raws: list[bytes], setup: dict) -> float:
    """One run of `make run` as ``setup`` says; prints its report, returns its msg/s."""
    with tempfile.TemporaryDirectory(prefix="ticketgate-make-run-") as tmp:
        url = fresh_postgres(args.pg_url) if args.db == "postgresql" else None
        launcher = Launcher(Path(tmp) / "var", url, setup["email_workers"], setup["batch_max"])
        try:
            workers = launcher.wait_ready()
            figures = measure(args, launcher, raws)
            figures["workers"] = workers
            figures["email_workers"] = launcher.email_workers()
            figures["rss"] = launcher.peak_rss()
        finally:
            launcher.stop()
        figures["locks"] = lock_times(launcher.output())
        figures["phases"] = job_phases(launcher.output())
        figures["threading"] = threading_check(raws, launcher.database_url)
        report(args, len(raws), figures)
    return len(raws) / figures["elapsed"]


def measure(args, launcher: Launcher, raws: list[bytes]) -> dict:
    engine = make_engine(launcher.database_url)
    with _ServerMeter(launcher.database_url) as meter:
        figures = _timed_run(args, launcher, raws, engine)
        figures["cpu_server"] = meter.seconds() / figures["elapsed"]
    figures["cpu_others"] = max(0.0, figures["cpu_others"] - figures["cpu_server"])
    figures["stored"] = settled(engine)
    figures["latencies"] = latencies_ms(engine)
    return figures


def _timed_run(args, launcher: Launcher, raws: list[bytes], engine) -> dict:
    load_before = os.getloadavg()
    machine_before, client_before = machine_cpu_seconds(), _own_cpu_seconds()
    processes_before = launcher.cpu_by_process()
    start = time.perf_counter()
    pace = args.clients / args.steady_rate if args.steady_rate else 0.0
    send_all(launcher.smtp_port, raws, args.clients, pace)
    sent = time.perf_counter()
    done = wait_settled(engine, len(raws))
    elapsed = done - start
    machine = machine_cpu_seconds() - machine_before
    processes = launcher.cpu_by_process()
    client = _own_cpu_seconds() - client_before
    by_kind: Counter = Counter()
    for key, seconds in processes.items():
        by_kind[key[1]] += seconds - processes_before.get(key, 0.0)
    ours = sum(by_kind.values())
    return {"start": start, "sent": sent - start, "elapsed": elapsed,
            "load": (load_before, os.getloadavg()),
            "cpu_ours": ours / elapsed, "cpu_client": client / elapsed, "cpu_by_kind": by_kind,
            "cpu_others": max(0.0, machine - ours - client) / elapsed}


class _ServerMeter:
    """CPU seconds of the PostgreSQL server processes that serve the launcher's sessions
    (outside its process tree) over the run; none on SQLite."""

    def __init__(self, database_url: str):
        self.meter = None
        if database_url.startswith("postgresql"):
            backends = PostgresBackends(make_engine(with_app_name(database_url)))
            self.meter = CpuMeter({"server": backends})

    def __enter__(self):
        if self.meter:
            self.meter.__enter__()
            self.first = self.meter.snapshot()
        return self

    def seconds(self) -> float:
        if not self.meter:
            return 0.0
        last = self.meter.snapshot()
        return sum(value - self.first.seen["server"].get(pid, 0.0)
                   for pid, value in last.seen["server"].items())

    def __exit__(self, *exc):
        if self.meter:
            self.meter.__exit__(*exc)


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def report(args, count: int, f: dict) -> None:
    lat = f["latencies"]
    conversations, tickets, wrong = f["threading"]
    print(f"db={args.db} clients={args.clients} email workers={f['email_workers']} "
          f"(RQ workers in all: {f['workers']}) cores={len(os.sched_getaffinity(0))}")
    print(f"  sent in {f['sent']:.1f} s; all {count} stored after {f['elapsed']:.1f} s: "
          f"{count / f['elapsed']:.0f} msg/s end to end (first SMTP byte to last stored)")
    print(f"  stored rows (messages + quarantine): {f['stored']}")
    print(f"  threading: {conversations} conversations, {tickets} tickets, {wrong} messages "
          f"off their conversation's ticket: {100 * (1 - wrong / count):.1f} %")
    print(f"  accept->stored latency: p50 {percentile(lat, 50):.0f} ms, "
          f"p99 {percentile(lat, 99):.0f} ms, max {max(lat):.0f} ms")
    (before, after) = f["load"]
    print(f"  machine: load average {before[0]:.1f} before, {after[0]:.1f} after; CPU used "
          f"during the run: `make run` {f['cpu_ours']:.2f} cores, the SMTP clients "
          f"{f['cpu_client']:.2f}, everything else on the machine {f['cpu_others']:.2f}")
    total_ms = 1000 * f["cpu_ours"] * f["elapsed"] / count
    print(f"  CPU ms per message: {total_ms:.1f} in all: " + ", ".join(
        f"{name} {1000 * seconds / count:.1f}" for name, seconds in f["cpu_by_kind"].most_common()
        if seconds * 1000 / count >= 0.05))
    if f["cpu_server"]:
        print(f"  PostgreSQL server processes serving the run (not in the figures above): "
              f"{f['cpu_server']:.2f} cores, {1000 * f['cpu_server'] * f['elapsed'] / count:.1f} "
              f"ms per message")
    locks = f["locks"]
    if locks["batches"]:
        print(f"  store transactions: {locks['batches']} batches of "
              f"{locks['items'] / locks['batches']:.1f} items on average; per message "
              f"{1000 * locks['held'] / count:.2f} ms holding the locks (of it "
              f"{1000 * locks['committing'] / count:.2f} committing), "
              f"{1000 * locks['waited'] / count:.2f} ms waiting for them; locks held "
              f"{locks['held'] / f['elapsed']:.0%} of the run's time (sum over workers)")
    if f["phases"]:
        print("  email workers' jobs, ms per message wall/CPU: " + ", ".join(
            f"{name} {1000 * wall / count:.2f}/{1000 * cpu / count:.2f}"
            for name, (wall, cpu) in f["phases"].items()))
    by_kind = Counter(name for name, _ in f["rss"])
    print("  peak RSS MiB: " + ", ".join(
        f"{name} {mib:.0f}" + (f" (x{by_kind[name]})" if by_kind[name] > 1 else "")
        for name, mib in _largest_per_kind(f["rss"])))


def _largest_per_kind(rows: list[tuple[str, float]]) -> list[tuple[str, float]]:
    largest: dict[str, float] = {}
    for name, mib in rows:
        largest[name] = max(largest.get(name, 0.0), mib)
    return sorted(largest.items(), key=lambda item: -item[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="a database this run may wipe (--db postgresql)")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=2, help="concurrent SMTP connections")
    parser.add_argument("--email-workers", type=int, help="default: `make run`'s (one per core)")
    parser.add_argument("--batch-max", type=int, help="INGEST_BATCH_MAX (default: 100)")
    parser.add_argument("--compare", action="store_true",
                        help="alternate rounds set up as before issue 12 and as now")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of --compare")
    parser.add_argument("--peer", action="store_true",
                        help="then django-helpdesk 2.6.1 on the same mails (peer_helpdesk.py)")
    parser.add_argument("--steady-rate", type=int, default=0, help="messages/s; 0 = flat out")
    parser.add_argument("--seconds", type=int, default=30, help="duration of a steady run")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
