"""The SMTP edge under hostile sessions: normal mail's rate next to its calm rate, and the RSS.

The edge runs as `make run` runs it (`python -m gateway.edges.smtp`, default limits) on its own Redis
db. Each round measures normal mail alone (calm), then again while a separate process keeps 50
hostile sessions open from their own loopback addresses (loud):

- streams: after one valid RCPT, DATA without any CRLF, as fast as the socket takes it;
- oversized: DATA of ordinary lines past the size limit;
- drips: one byte every 2 s, half inside a command and half inside DATA;
- flood: connections from one address, beyond the per-address cap (they get 421 and reconnect).

Streams and oversized senders reconnect as soon as the edge cuts them. Normal mail: two client
threads from 127.0.0.1, a new connection every 20 messages.

    .venv/bin/python -m bench.smtp_hostile --redis redis://127.0.0.1:6379/4
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import redis

from bench.common import PROJECT_DIR, bench_env, cpu_seconds, free_port, peak_rss_mb, wait_port
from tests.integration.mails import customer_mail

MESSAGES_PER_CONNECTION = 20
DRIP_INTERVAL_S = 2
FLOOD_RETRY_S = 0.05  # a refused flood connection tries again after this (sockets in TIME_WAIT)
STREAM_PIECE = b"x" * 65536
OVERSIZED_PIECE = b"an ordinary line of a mail that never ends, 64 bytes with CRLF\r\n" * 1024
# hostile sessions by kind, in fiftieths: half of them one address flooding past its cap of 20
MIX = {"stream": 8, "oversized": 8, "drip_command": 5, "drip_data": 4, "flood": 25}
KINDS = set(MIX)


def normal_sender(port: int, until: float, sent: list[int]) -> None:
    raw = customer_mail().as_bytes()
    while time.monotonic() < until:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            for _ in range(MESSAGES_PER_CONNECTION):
                smtp.sendmail("alice@customer.test", ["support@demo.test"], raw)
                sent.append(1)


def normal_phase(edge_pid: int, port: int, seconds: float, clients: int = 2) -> dict:
    """Normal mail for ``seconds``: its rate, and the edge's CPU seconds meanwhile."""
    sent: list[int] = []
    start, cpu = time.monotonic(), cpu_seconds(edge_pid)
    threads = [threading.Thread(target=normal_sender, args=(port, start + seconds, sent))
               for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    return {"rate": len(sent) / elapsed, "sent": len(sent), "cpu": cpu_seconds(edge_pid) - cpu}


def loud_phase(edge_pid: int, port: int, seconds: float, hostile: int) -> tuple[dict, dict]:
    """Normal mail while a separate process runs ``hostile`` sessions (0: none)."""
    stop, ready = multiprocessing.Event(), multiprocessing.Event()
    results = multiprocessing.Queue()
    attacker = multiprocessing.Process(target=attack, args=(port, hostile, stop, ready, results))
    attacker.start()
    ready.wait(60)  # every hostile session has been answered once
    normal = normal_phase(edge_pid, port, seconds)
    stop.set()
    stats = results.get(timeout=120)
    attacker.join(60)
    return normal, stats


def reset_peak_rss(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM starts again from VmRSS


async def reply(reader: asyncio.StreamReader) -> str:
    line = await reader.readline()
    while line[3:4] == b"-":
        line = await reader.readline()
    return line[:3].decode() or "closed"


async def open_session(port: int, source: str, with_data: bool):
    """Connect from ``source``; go as far as ``354`` when ``with_data``; return the last code."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    code = await reply(reader)
    commands = (b"EHLO hostile.test", b"MAIL FROM:<x@hostile.test>",
                b"RCPT TO:<support@demo.test>", b"DATA") if with_data else ()
    for command in commands:
        if code[0] not in "23":
            break
        writer.write(command + b"\r\n")
        code = await reply(reader)
    return reader, writer, code


async def pour(writer: asyncio.StreamWriter, piece: bytes, stop) -> None:
    try:
        while not stop.is_set():
            writer.write(piece)
            await writer.drain()
    except OSError:  # the edge cut the session
        pass


async def drip(writer: asyncio.StreamWriter, stop) -> None:
    try:
        while not stop.is_set() and not writer.is_closing():
            writer.write(b"x")
            await asyncio.sleep(DRIP_INTERVAL_S)
    except OSError:
        pass


async def hostile_session(kind: str, port: int, source: str, stop, answered) -> str:
    """One attempt of ``kind``; return what the edge answered last."""
    reader, writer, code = await open_session(port, source, kind in (
        "stream", "oversized", "drip_data"))
    answered()
    if code not in ("220", "354"):
        await asyncio.sleep(FLOOD_RETRY_S)
    elif kind in ("stream", "oversized"):
        await pour(writer, STREAM_PIECE if kind == "stream" else OVERSIZED_PIECE, stop)
        try:
            code = await asyncio.wait_for(reply(reader), 60)
        except ConnectionResetError:  # asyncio drops the 552 that came before the reset
            code = "cut"
    elif kind.startswith("drip"):
        drip_task = asyncio.create_task(drip(writer, stop))
        code = await reply(reader)  # the edge's last word (421 on a timeout), if any
        drip_task.cancel()
    else:  # an admitted flood connection holds its slot in silence
        code = await reply(reader)
    writer.close()
    return code


async def keep_attacking(kind, port, source, stop, answered, stats: Counter) -> None:
    while not stop.is_set():
        try:
            stats[f"{kind}:{await hostile_session(kind, port, source, stop, answered)}"] += 1
        except OSError as exc:
            stats[f"{kind}:{type(exc).__name__}"] += 1


async def attack_async(port: int, hostile: int, stop, ready) -> Counter:
    stats: Counter = Counter()
    sessions = [(kind, n) for kind, share in MIX.items() if kind in KINDS
                for n in range(round(share * hostile / 50))]
    first_answers = set()
    if not sessions:
        ready.set()

    def answered_by(key):
        def answered():
            first_answers.add(key)
            if len(first_answers) == len(sessions):
                ready.set()
        return answered
    tasks = [asyncio.create_task(keep_attacking(
        kind, port, "127.0.2.1" if kind == "flood" else f"127.0.1.{i + 1}", stop,
        answered_by(i), stats)) for i, (kind, _) in enumerate(sessions)]
    while not stop.is_set():
        await asyncio.sleep(0.1)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return stats


def attack(port: int, hostile: int, stop, ready, results) -> None:
    results.put(dict(asyncio.run(attack_async(port, hostile, stop, ready))))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=40,
                        help="of normal mail per phase")
    parser.add_argument("--rounds", type=int, default=5, help="alternating calm and loud phases")
    parser.add_argument("--hostile", type=int, default=50, help="hostile sessions")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--kinds", default=",".join(MIX), help="hostile kinds to run")
    parser.add_argument("--size-limit", help="SMTP_SIZE_LIMIT of the edge (default: its own)")
    args = parser.parse_args()
    KINDS.intersection_update(args.kinds.split(","))
    db = redis.Redis.from_url(args.redis)
    db.flushdb()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = bench_env(REDIS_URL=args.redis, SMTP_PORT=str(port), BLOB_DIR=f"{tmp}/blobs",
                        DATABASE_URL=f"sqlite:///{tmp}/unused.db")
        if args.size_limit:
            env["SMTP_SIZE_LIMIT"] = args.size_limit
        edge = subprocess.Popen([sys.executable, "-m", "gateway.edges.smtp"], env=env, cwd=PROJECT_DIR)
        wait_port(port)
        normal_phase(edge.pid, port, 3)  # warm up: imports, Redis connections, first jobs
        rounds = []
        for _ in range(args.rounds):
            reset_peak_rss(edge.pid)
            db.flushdb()  # each phase starts from an empty db: a full one changes the rate
            # the calm phase runs the same attacker process with no sessions: a bare
            # normal_phase measured a third slower, for no reason of the edge's
            calm, _ = loud_phase(edge.pid, port, args.seconds, 0)
            db.flushdb()
            loud, stats = loud_phase(edge.pid, port, args.seconds, args.hostile)
            rounds.append((calm, loud, stats, peak_rss_mb(edge.pid)))
        edge.terminate()
        edge.wait(30)
    report(rounds)


def report(rounds: list) -> None:
    """Per round: rates, the share kept, the CPU the hostile sessions cost the edge, peak RSS."""
    print("round  calm msg/s  loud msg/s  share  hostile CPU  peak RSS MiB  hostile outcomes")
    for n, (calm, loud, stats, rss) in enumerate(rounds, 1):
        hostile_cpu = loud["cpu"] - loud["sent"] * calm["cpu"] / max(calm["sent"], 1)
        outcomes = " ".join(f"{k}={v}" for k, v in sorted(stats.items()))
        print(f"{n:5d}  {calm['rate']:10.0f}  {loud['rate']:10.0f}  "
              f"{loud['rate'] / calm['rate']:5.0%}  {hostile_cpu / loud['cpu']:11.0%}  "
              f"{rss:12.1f}  {outcomes}")
    shares = sorted(loud["rate"] / calm["rate"] for calm, loud, _, _ in rounds)
    print(f"median share {shares[len(shares) // 2]:.0%}; "
          f"highest peak RSS {max(r[3] for r in rounds):.1f} MiB")


if __name__ == "__main__":
    main()
