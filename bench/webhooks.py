"""Webhook accept throughput and latency (chat, Telegram) next to a bare-Flask ceiling.

Both servers run under the same gunicorn settings: the real app ``gateway.web:create_app()``
(signature check, validation, Redis MULTI with the raw body and the RQ job, 202) and a bare
Flask app whose one POST route only answers 202 (the ceiling). Load comes from separate client
processes, each with threads on keep-alive ``http.client`` connections, sending signed chat
messages with unique ids (or Telegram updates with unique update_ids and the secret header).
Rounds alternate ceiling and edge so the machine's drift hits both; medians are reported.
No workers run: only accepting is measured (the queue is flushed between rounds).

    .venv/bin/python -m bench.webhooks --channel chat
    .venv/bin/python -m bench.webhooks --channel telegram
    .venv/bin/python -m bench.webhooks --channel chat --worker-class sync --workers 4
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import redis
import yaml

from bench.common import PROJECT_DIR, bench_env, free_port, percentile, tree_cpu_seconds, wait_port
from gateway.edges.chat.intake import sign  # imported here: client processes fork with it loaded

CHAT_SECRET = "bench-chat-secret"
TG_SECRET = "bench-telegram-secret"
WORKSPACE = "bench"


def ceiling_app():
    """gunicorn target of the ceiling: a Flask app that answers every POST with 202."""
    from flask import Flask, jsonify
    app = Flask("ceiling")

    @app.post("/<path:anything>")
    def accept(anything):
        return jsonify({"status": "accepted"}), 202
    return app


def workspace_file(tmp: Path) -> Path:
    path = tmp / "workspaces.yaml"
    path.write_text(yaml.safe_dump({"workspaces": [{
        "slug": WORKSPACE, "name": "Bench", "domains": ["bench.test"],
        "channels": {"chat": {"secret_env": "BENCH_CHAT_SECRET"},
                     "telegram": [{"name": "bot", "token_env": "BENCH_TG_TOKEN",
                                   "secret_env": "BENCH_TG_SECRET"}]}}]}))
    return path


def chat_request(n: int) -> tuple[str, bytes, dict]:
    body = json.dumps({"conversation_id": f"c{n % 50}", "message_id": uuid.uuid4().hex,
                       "visitor": {"id": f"v{n % 50}", "name": "Bench Visitor"},
                       "text": "Hello, where is my order? " * 4,
                       "sent_at": "2024-05-01T12:00:00Z"}).encode()
    timestamp = str(int(time.time()))
    return (f"/hooks/chat/{WORKSPACE}", body,
            {"Content-Type": "application/json", "X-Ticketgate-Timestamp": timestamp,
             "X-Ticketgate-Signature": sign(CHAT_SECRET, timestamp, body)})


def telegram_request(n: int) -> tuple[str, bytes, dict]:
    update_id = int(uuid.uuid4().int % 2 ** 52)
    body = json.dumps({"update_id": update_id, "message": {
        "message_id": n, "date": int(time.time()), "text": "Hello, where is my order?",
        "chat": {"id": 1000 + n % 50, "type": "private", "first_name": "Bench"},
        "from": {"id": 1000 + n % 50, "is_bot": False, "first_name": "Bench"}}}).encode()
    return (f"/hooks/telegram/{WORKSPACE}/bot", body,
            {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TG_SECRET})


REQUESTS = {"chat": chat_request, "telegram": telegram_request}


def client_thread(port: int, channel: str, deadline: float, out: list) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    make = REQUESTS[channel]
    n, errors = 0, 0
    while time.perf_counter() < deadline:
        path, body, headers = make(n)
        start = time.perf_counter()
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        response.read()
        out.append(time.perf_counter() - start)
        errors += response.status not in (200, 202)
        n += 1
    connection.close()
    out.append(-errors - 1)  # marker: how many requests failed in this thread


def client_process(port: int, channel: str, threads: int, seconds: float, results) -> None:
    deadline = time.perf_counter() + seconds
    outs: list[list] = [[] for _ in range(threads)]
    pool = [threading.Thread(target=client_thread, args=(port, channel, deadline, out))
            for out in outs]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    results.put([x for out in outs for x in out])


def drive(port: int, channel: str, procs: int, threads: int, seconds: float) -> dict:
    results = multiprocessing.Queue()
    clients = [multiprocessing.Process(target=client_process,
                                       args=(port, channel, threads, seconds, results))
               for _ in range(procs)]
    for c in clients:
        c.start()
    values = [x for _ in clients for x in results.get()]
    for c in clients:
        c.join()
    latencies = [x for x in values if x >= 0]
    errors = sum(-x - 1 for x in values if x < 0)
    return {"rate": len(latencies) / seconds, "p50_ms": percentile(latencies, 50) * 1000,
            "p99_ms": percentile(latencies, 99) * 1000, "errors": int(errors)}


def measured(server: subprocess.Popen, args) -> dict:
    """One round against ``server``: client-side rate and latency, server-side CPU/request."""
    before = tree_cpu_seconds(server.pid)
    result = drive(server.port, args.channel, args.client_procs, args.client_threads,
                   args.seconds)
    requests = result["rate"] * args.seconds
    result["cpu_ms"] = (tree_cpu_seconds(server.pid) - before) * 1000 / max(requests, 1)
    return result


def gunicorn(target: str, port: int, args, env: dict) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
               "--workers", str(args.workers), "--worker-class", args.worker_class,
               "--threads", str(args.threads), "--keep-alive", "30", "--log-level", "warning",
               target]
    process = subprocess.Popen(command, env=env, cwd=PROJECT_DIR)
    process.port = port
    wait_port(port)
    time.sleep(1.0)  # let every worker boot and import the app
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channel", choices=sorted(REQUESTS), default="chat")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="gthread")
    parser.add_argument("--threads", type=int, default=16, help="per worker (gthread)")
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--client-threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/3")
    args = parser.parse_args()
    store = redis.Redis.from_url(args.redis)
    store.flushdb()
    with tempfile.TemporaryDirectory() as tmp:
        env = bench_env(REDIS_URL=args.redis, DATABASE_URL=f"sqlite:///{tmp}/unused.db",
                        BLOB_DIR=f"{tmp}/blobs", TICKETGATE_CONFIG=str(workspace_file(Path(tmp))),
                        BENCH_CHAT_SECRET=CHAT_SECRET, BENCH_TG_SECRET=TG_SECRET,
                        BENCH_TG_TOKEN="123:bench")
        ceiling_port, edge_port = free_port(), free_port()
        servers = [gunicorn("bench.webhooks:ceiling_app()", ceiling_port, args, env),
                   gunicorn("gateway.web:create_app()", edge_port, args, env)]
        try:
            for server in servers:  # warm-up, not counted: first requests, lazy imports
                drive(server.port, args.channel, args.client_procs, args.client_threads, 1.0)
            store.flushdb()
            ceiling_runs, edge_runs = [], []
            for _ in range(args.rounds):
                ceiling_runs.append(measured(servers[0], args))
                edge_runs.append(measured(servers[1], args))
                store.flushdb()
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    print(f"{args.channel}: gunicorn {args.worker_class} x{args.workers}"
          + (f" ({args.threads} threads)" if args.worker_class == "gthread" else "")
          + f", {args.client_procs}x{args.client_threads} keep-alive clients, "
          f"{args.rounds} rounds of {args.seconds:.0f} s")
    report("ceiling (bare Flask 202)", median(ceiling_runs), median(ceiling_runs))
    report(f"ticketgate {args.channel} webhook", median(edge_runs), median(ceiling_runs))
    print("ratio per round: " + " ".join(f"{e['rate'] / c['rate']:.0%}"
                                         for c, e in zip(ceiling_runs, edge_runs)))
    cpu_ceiling = median_of(ceiling_runs, "cpu_ms")
    cpu_edge = median_of(edge_runs, "cpu_ms")
    print(f"server CPU per request (median): ceiling {cpu_ceiling:.2f} ms, edge {cpu_edge:.2f} ms"
          f" -> CPU-bound share of ceiling {cpu_ceiling / cpu_edge:.0%}")


def median(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["rate"])[len(runs) // 2]


def median_of(runs: list[dict], key: str) -> float:
    return sorted(r[key] for r in runs)[len(runs) // 2]


def report(name: str, result: dict, ceiling: dict) -> None:
    print(f"{name:32s} {result['rate']:7.0f} req/s  p50 {result['p50_ms']:6.2f} ms  "
          f"p99 {result['p99_ms']:6.2f} ms  errors {result['errors']}  "
          f"({result['rate'] / ceiling['rate']:.0%} of ceiling)")


if __name__ == "__main__":
    main()
