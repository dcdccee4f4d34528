"""Round trips to PostgreSQL per routing batch (``assign.route_all``), counted by a TCP proxy
between the benchmark and the server: a client send after a reply from the server (since its
last send) starts a round trip. The workspace of ``bench.routing_store`` (``--agents`` agents,
``--waiting`` waiting tickets) is loaded into the database first (its schema public is
DROPPED); the connections and caches warm up before the counting starts.

    .venv/bin/python -m bench.routing_round_trips --url postgresql+psycopg://.../<db> \
        [--agents 1000 --batches 40 --batch 10]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import threading

from sqlalchemy.engine import make_url

from bench.routing_population import Population, fresh_store, workspace_config
from bench.routing_store import route_batch
from store.db import make_engine, session_factory


class Proxy:
    """A TCP proxy on a free local port to ``host:port``, counting round trips."""

    def __init__(self, host: str, port: int):
        self.target, self.round_trips, self.port = (host, port), 0, None
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        threading.Thread(target=self._serve, args=(started,), daemon=True).start()
        started.wait()

    def _serve(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        started.set()
        self.loop.run_forever()

    async def _client(self, reader, writer) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        turn = {"answered": True}  # the server spoke since the client's last send
        await asyncio.gather(self._pipe(reader, upstream_writer, turn, True),
                             self._pipe(upstream_reader, writer, turn, False),
                             return_exceptions=True)

    async def _pipe(self, reader, writer, turn: dict, from_client: bool) -> None:
        while data := await reader.read(65536):
            if from_client and turn["answered"]:
                self.round_trips += 1
            turn["answered"] = not from_client
            writer.write(data)
            await writer.drain()
        writer.close()


def run(args) -> dict:
    url = fresh_store(args.url, "")
    with session_factory(make_engine(url)).begin() as session:
        people = Population(session, 1, (args.agents * 8 + args.waiting) // 4 + 100)
        people.agents(args.agents)
        people.tickets(args.waiting, "waiting", vip_only=True)
        tickets = people.tickets(args.batch * (args.batches + 5), "new")
    target = make_url(url)
    proxy = Proxy(target.host or "127.0.0.1", target.port or 5432)
    sessions = session_factory(make_engine(target.set(host="127.0.0.1", port=proxy.port)
                                           .render_as_string(hide_password=False)))
    config = workspace_config()
    batches = [tickets[start:start + args.batch] for start in range(0, len(tickets), args.batch)]
    for batch in batches[:5]:  # warm: connections, the agent cache, prepared statements
        route_batch(sessions, config, batch)
    before = proxy.round_trips
    kinds = [kind for batch in batches[5:] for _ms, kind, _cpu in
             route_batch(sessions, config, batch)]
    counted = proxy.round_trips - before
    return {"batches": len(batches) - 5, "batch": args.batch,
            "round_trips_per_batch": round(counted / (len(batches) - 5), 2),
            "decisions": {kind: kinds.count(kind) for kind in sorted(set(kinds))}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="PostgreSQL URL (its schema public is "
                                                     "DROPPED)")
    for name, default in (("agents", 1_000), ("waiting", 1_000), ("batches", 40),
                          ("batch", 10)):
        parser.add_argument(f"--{name}", type=int, default=default)
    print(json.dumps(run(parser.parse_args()), indent=1))


if __name__ == "__main__":
    main()
