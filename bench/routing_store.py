"""Routing against the store: ``tickets.assign`` decisions with row locks, claim and commit.

``--agents`` A (5 languages + 45 product skills; chat 2, telegram 2, email 6, form 4, 12 units;
90 % online) hold open assignments and ``--waiting`` W tickets wait, all bulk-inserted; a fifth
of the agents form the full ``vip`` department, the backlog is vip work. Timed, on ``--tickets``
T new tickets each, alternately general work (mostly assigned) and vip work (queued):
``route``, a transaction per ticket (``assign.route``; a wait rechecked in a second transaction
if an agent changed, as ``route_all`` did before batches); ``batch_N`` for each N of ``--batch``:
``assign.route_all`` of N tickets at a time (one transaction per batch, the waits rechecked
together); ``refill``: a vip agent's ticket is resolved, then ``assign.refill`` hands its room
to the best waiting tickets; on PostgreSQL (``--url``, wiped first) ``--workers`` P processes
route T more tickets at once, a transaction per ticket and in batches of the first N. The agent
cache keeps in step through the change feed (``tickets.agent_feed``); with ``--scan`` the
one-per-transaction phases run again on T more tickets with the cache scanning every agent's
version before each decision, as it did before the feed (``bench.agent_scan``). Each phase ends
with an invariant check that aborts a broken run; a batch phase on a PostgreSQL server on this
machine also reports the server's CPU per decision (its backends for the database, from /proc).
The store is vacuumed and analyzed after the load, as autovacuum would soon do. ``--profile`` N: N routes and N refills under
cProfile, and N tickets routed in batches of the first N of ``--batch``.

    .venv/bin/python -m bench.routing_store [--agents 1000 --waiting 10000 --tickets 1000 \
        --batch 10,100 --scan]
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import multiprocessing
import os
import pstats
import random
import re
import tempfile
import time
from collections import Counter, defaultdict

from sqlalchemy import func, select, text

from bench.agent_scan import scanning
from bench.common import PROJECT_DIR, percentile
from bench.routing_population import Population, fresh_store, workspace_config
from routing.index import EPSILON
from store.db import make_engine, session_factory
from store.models import Agent, Assignment, Ticket, utcnow
from tickets import agent_cache, assign, route_store as rs

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
LIBRARY_PATH = re.compile(r"^.*/(site-packages|python3\.\d+)/")  # shortened in the profile


def route_one(sessions, config, ticket_id: int) -> tuple[float, str, float]:
    """Route in a transaction of its own (a wait gets its recheck in a second transaction if
    an agent changed): (wall ms, decision kind, CPU ms of this thread)."""
    started, cpu = time.perf_counter(), time.thread_time()
    with sessions.begin() as session:
        decision = assign.route(session, config, ticket_id)
    if decision is not None and decision.kind == "wait":
        with sessions.begin() as session:
            if not agent_cache.unchanged_since_last_read(session, config.routing, utcnow()):
                decision = assign.recheck(session, config, ticket_id) or decision
    kind = decision.kind if decision else "none"
    return (time.perf_counter() - started) * 1000, kind, (time.thread_time() - cpu) * 1000


def route_batch(sessions, config, ticket_ids: list[int]) -> list[tuple[float, str, float]]:
    """Route the tickets in one ``route_all`` (one transaction, the waits rechecked
    together): per ticket (wall ms of the whole call: when its decision is committed, its
    kind, the call's CPU ms shared out per ticket)."""
    started, cpu = time.perf_counter(), time.thread_time()
    kinds = {d.ticket: d.kind for d in assign.route_all(sessions, config, ticket_ids)}
    wall, cpu = (time.perf_counter() - started) * 1000, (time.thread_time() - cpu) * 1000
    return [(wall, kinds.get(str(t), "none"), cpu / len(ticket_ids)) for t in ticket_ids]


def summary(timings: list[tuple[float, str, float]], started: float) -> dict:
    """Decisions/s since ``started``; wall latencies (ms) of all and by kind, CPU ms (client)."""
    every, wall_s = [ms for ms, _, _ in timings], time.perf_counter() - started
    kinds = sorted({kind for _, kind, _ in timings})
    by_kind = {kind: [ms for ms, k, _ in timings if k == kind] for kind in kinds}
    cpu = [ms for _, _, ms in timings]
    return {"decisions": len(every), "decisions_per_s": round(len(every) / wall_s, 1),
            **quantiles(every), "max_ms": round(max(every), 2),
            "client_cpu": {**quantiles(cpu), "mean_ms": round(sum(cpu) / len(cpu), 3)},
            "by_kind": {k: {"count": len(v), **quantiles(v)} for k, v in by_kind.items()}}


def quantiles(values: list[float]) -> dict:
    return {"p50_ms": round(percentile(values, 50), 2), "p99_ms": round(percentile(values, 99), 2)}


def route_phase(sessions, config, ticket_ids: list[int], scan: bool = False) -> dict:
    with scanning() if scan else contextlib.nullcontext():
        started = time.perf_counter()
        return summary([route_one(sessions, config, t) for t in ticket_ids], started)


def batch_phase(sessions, config, ticket_ids: list[int], size: int) -> dict:
    """Batches of ``size``; latencies are per batch call (a decision is committed with its
    batch), CPU per decision (and the database server's, when it runs on this machine)."""
    server = server_cpu_ms(sessions.kw["bind"].url)
    started = time.perf_counter()
    timings = [t for start in range(0, len(ticket_ids), size)
               for t in route_batch(sessions, config, ticket_ids[start:start + size])]
    result = {"batch": size, **summary(timings, started)}
    if server is not None:
        result["server_cpu_ms_per_decision"] = round(
            (server_cpu_ms(sessions.kw["bind"].url) - server) / len(timings), 3)
    return result


def server_cpu_ms(url) -> float | None:
    """CPU time (ms) of the local PostgreSQL backends serving ``url``'s database (read from
    /proc: the server on this machine, as the same user or root); None for SQLite. The time
    is the scheduler's, in nanoseconds (``schedstat``), where the kernel has it: the ticks
    of ``stat`` (10 ms) sample a backend that runs in bursts of a millisecond too coarsely."""
    if url.get_backend_name() != "postgresql":
        return None
    marker, total = f" {url.database} ".encode(), 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                command = cmdline.read()
            if command.startswith(b"postgres: ") and marker in command:
                total += _process_cpu_ms(pid)
        except (OSError, IndexError, ValueError):  # a process that ended meanwhile
            continue
    return total


def _process_cpu_ms(pid: str) -> float:
    try:
        with open(f"/proc/{pid}/schedstat") as schedstat:
            return int(schedstat.read().split()[0]) / 1e6
    except FileNotFoundError:  # a kernel without scheduler statistics
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / CLOCK_TICKS


def refill_round(sessions, config, ws_id: int, key: str) -> tuple[float, float, int] | None:
    """Resolve one ticket the agent holds, then refill the agent: (release ms, refill ms,
    tickets handed out); None when it holds nothing."""
    with sessions.begin() as session:
        ticket_id = session.scalar(select(Assignment.ticket_id).join(Agent).where(
            Agent.workspace_id == ws_id, Agent.key == key, Assignment.ended_at.is_(None)))
    if ticket_id is None:
        return None
    started = time.perf_counter()
    with sessions.begin() as session:
        ticket = rs.lock_ticket(session, ticket_id)
        ticket.status, freed = "resolved", assign.release(session, config, ticket, "resolved")
    released = time.perf_counter()
    with sessions.begin() as session:
        handed = len(assign.refill(session, config, ws_id, freed))
    return (released - started) * 1000, (time.perf_counter() - released) * 1000, handed


def refill_phase(sessions, config, ws_id: int, vip_keys: list[str], rounds: int, rng) -> dict:
    done = [r for r in (refill_round(sessions, config, ws_id, rng.choice(vip_keys))
                        for _ in range(rounds)) if r]
    return {"rounds": len(done), "refill": quantiles([r for _, r, _ in done]),
            "release": quantiles([r for r, _, _ in done]),
            "tickets_handed_out": dict(sorted(Counter(n for _, _, n in done).items()))}


def parallel_worker(url: str, ticket_ids: list[int], barrier, scan: bool,
                    batch: int = 0) -> list[tuple]:
    config, sessions = workspace_config(), session_factory(make_engine(url))
    with scanning() if scan else contextlib.nullcontext():
        route_one(sessions, config, ticket_ids.pop())  # connected before the clock starts
        barrier.wait()
        if batch:
            return [t for start in range(0, len(ticket_ids), batch)
                    for t in route_batch(sessions, config, ticket_ids[start:start + batch])]
        return [route_one(sessions, config, ticket_id) for ticket_id in ticket_ids]


def parallel_phase(url: str, ticket_ids: list[int], workers: int, scan: bool = False,
                   batch: int = 0) -> dict:
    """Route disjoint slices at once (in batches of ``batch`` if given); a worker's error (a
    deadlock, say) ends the run."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager, ctx.Pool(workers) as pool:
        barrier = manager.Barrier(workers + 1)
        pending = pool.starmap_async(parallel_worker, [
            (url, ticket_ids[i::workers], barrier, scan, batch) for i in range(workers)])
        barrier.wait(timeout=120)
        started = time.perf_counter()
        timings = [t for got in pending.get() for t in got]
        return {"workers": workers, **({"batch": batch} if batch else {}),
                **summary(timings, started)}


def verify(sessions, config) -> dict:
    """The store's routing invariants; a violation ends the benchmark with an error."""
    policy = config.routing.make_policy()
    with sessions() as session:
        held = session.execute(select(Assignment.ticket_id, Assignment.agent_id, Assignment.channel)
                               .where(Assignment.ended_at.is_(None))).all()
        agents = session.scalars(select(Agent)).all()
        assigned = session.scalar(select(func.count()).where(Ticket.routing_state == "assigned"))
    load = defaultdict(Counter)
    for _, agent_id, channel in held:
        load[agent_id][channel] += 1
    problems = {
        "tickets with two open assignments":
            [t for t, n in Counter(t for t, _, _ in held).items() if n > 1],
        "agents over capacity": [a.key for a in agents if not fits(a, load[a.id], policy)],
        "agents whose load counter differs from their open assignments":
            [a.key for a in agents if {c: n for c, n in a.load.items() if n} != load[a.id]],
        "assigned tickets minus open assignments": [assigned - len(held)] * (assigned != len(held))}
    if problems := {name: found[:10] for name, found in problems.items() if found}:
        raise SystemExit(f"ROUTING INVARIANT BROKEN: {problems}")
    return {"ok": True, "open_assignments": len(held)}


def fits(agent: Agent, load: Counter, policy) -> bool:
    return (sum(policy.weight(c) * n for c, n in load.items())
            <= rs.total_units(agent, policy) + EPSILON
            and all(n <= agent.capacity.get(c, 0) for c, n in load.items()))


def profiled(calls: list, top: int = 12, per: int = 0) -> dict:
    """Run the calls under cProfile: the costliest project functions (cumulative) and the
    costliest functions of all by own time, in ms per call (or per ``per``: decisions)."""
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [call() for call in calls])
    stats, per = pstats.Stats(profiler).stats, per or len(calls)  # key -> (cc, n, own, cum, _)

    def line(key) -> str:
        _, n, own, cum, _ = stats[key]
        path = LIBRARY_PATH.sub("", key[0].replace(f"{PROJECT_DIR}/", ""))
        return (f"{cum * 1000 / per:8.3f} cum {own * 1000 / per:8.3f} own {n / per:7.1f}x "
                f"{path}:{key[1]}({key[2]})")
    ours = [k for k in stats if re.match(f"{PROJECT_DIR}/(config|routing|store|tickets|workers)/", k[0])]
    return {"calls": per, "ms_per_call_cumulative": [line(k) for k in sorted(
                ours, key=lambda k: -stats[k][3])[:top]],
            "ms_per_call_own": [line(k) for k in sorted(stats, key=lambda k: -stats[k][2])[:top]]}


def run(args) -> dict:
    config, rng = workspace_config(), random.Random(args.seed)
    sizes = args.batch
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_store(args.url, tmp)
        engine = make_engine(url)
        sessions, started = session_factory(engine), time.perf_counter()
        parallel = engine.dialect.name == "postgresql" and args.workers > 0
        with sessions.begin() as session:
            people = Population(session, args.seed, (args.agents * 8 + args.waiting) // 4 + 100)
            vips = people.agents(args.agents)
            people.tickets(args.waiting, "waiting", vip_only=True)
            warm, single, more, profiled_ids, single_scan, more_scan, more_batch = [
                people.tickets(n, "new") for n in (
                    20, args.tickets, args.tickets * parallel, args.profile,
                    args.tickets * args.scan, args.tickets * parallel * args.scan,
                    args.tickets * parallel * bool(sizes))]
            batched = {size: people.tickets(args.tickets, "new") for size in sizes}
            profiled_batch = people.tickets(args.profile * bool(sizes), "new")
        if engine.dialect.name == "postgresql":  # what autovacuum does soon after such a
            # load: statistics, hint bits and the visibility map of the new rows (else the
            # first phases set them), and the catalogs the wipe left dead rows in
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        result = {"store": engine.dialect.name, "agents": args.agents, "waiting": args.waiting,
                  "setup_s": round(time.perf_counter() - started, 1)}
        route_phase(sessions, config, warm)  # before the clock: connections, caches
        phases = {
            "route": lambda: route_phase(sessions, config, single),
            **{f"batch_{size}": lambda size=size: batch_phase(sessions, config, batched[size],
                                                              size) for size in sizes},
            "route_scan": lambda: args.scan and route_phase(sessions, config, single_scan, True),
            "refill": lambda: refill_phase(sessions, config, people.ws_id, vips, args.refills, rng),
            "parallel": lambda: parallel_phase(url, more, args.workers) if parallel else None,
            "parallel_batch": lambda: parallel and sizes and parallel_phase(
                url, more_batch, args.workers, batch=sizes[0]),
            "parallel_scan": lambda: parallel and args.scan and parallel_phase(
                url, more_scan, args.workers, True),
            "profile_route": lambda: args.profile and profiled(
                [lambda t=t: route_one(sessions, config, t) for t in profiled_ids]),
            "profile_batch": lambda: args.profile and sizes and profiled(
                [lambda b=b: route_batch(sessions, config, b) for b in chunks(
                    profiled_batch, sizes[0])], per=len(profiled_batch)),
            "profile_refill": lambda: args.profile and profiled([lambda: refill_round(
                sessions, config, people.ws_id, rng.choice(vips))] * args.profile)}
        for name, phase in phases.items():
            if outcome := phase():
                result[name] = {**outcome, "invariants": verify(sessions, config)}
        engine.dispose()
    return result


def chunks(values: list, size: int) -> list[list]:
    return [values[start:start + size] for start in range(0, len(values), size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="PostgreSQL URL (its schema public is DROPPED); "
                                      "default: a temporary SQLite file")
    for name, default in (("agents", 1_000), ("waiting", 10_000), ("tickets", 1_000),
                          ("refills", 200), ("workers", 4), ("profile", 0), ("seed", 1)):
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--batch", type=lambda v: [int(n) for n in v.split(",") if n],
                        default=[], help="batch sizes to route with route_all, e.g. 10,100")
    parser.add_argument("--scan", action="store_true",
                        help="also route with the cache scanning every agent (the old way)")
    print(json.dumps(run(parser.parse_args()), indent=1))


if __name__ == "__main__":
    main()
