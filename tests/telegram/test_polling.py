"""Polling mode against the fake Bot API: at-least-once, offset moved only after the enqueue."""
from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from redis import Redis
from rq import Queue

from queues.intake import Intake
from gateway.edges.telegram import polling, updates
from clients.telegram import make_bot
from tests.integration.harness import PROJECT_DIR, free_port, process_env
from tests.telegram import updates as tg
from tests.telegram.conftest import telegram_config

# polling.py silences this warning for the process; pytest resets filters per test
pytestmark = pytest.mark.filterwarnings("ignore:Please use 'Bot.getUpdates'")


def queued(redis_conn) -> list[dict]:
    return [e for job in Queue("telegram", connection=redis_conn).get_jobs()
            for e in job.args[0]]


def poller(runtime, redis=None) -> polling.Poller:
    bot = runtime.config.workspace("demo").channels.bot("poller")
    return polling.Poller("demo", bot, Intake(redis or runtime.redis), poll_timeout=0)


def fetch(poller_, timeout: float = 0) -> list[dict]:
    """One getUpdates, from a thread of its own (the test's thread may have a running loop)."""
    async def go():
        async with make_bot(poller_.config) as bot:
            return await poller_.fetch(bot, timeout)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result(30)


def test_batch_is_enqueued_then_the_offset_confirms_it(sqlite_runtime, fake_api, redis_conn):
    fake_api.add_update(tg.message(900001, 1, "first"))
    fake_api.add_update(tg.photo(900002, 2))
    p = poller(sqlite_runtime)
    batch = fetch(p)
    assert [u["update_id"] for u in batch] == [900001, 900002]
    assert p.accept(batch) == 2
    assert p.offset == 900003
    envelopes = queued(redis_conn)
    assert [(e["account"], e["meta"]["update_id"]) for e in envelopes] == [
        ("poller", 900001), ("poller", 900002)]
    assert len(fake_api.updates) == 2  # not confirmed before the next getUpdates
    assert fetch(p) == []
    assert fake_api.called("getUpdates")[-1]["offset"] == 900003
    assert fake_api.updates == []
    assert fake_api.called("getUpdates")[0]["allowed_updates"] == ["message", "edited_message"]


def test_redis_down_keeps_the_offset_so_the_updates_come_again(sqlite_runtime, fake_api,
                                                               redis_conn):
    fake_api.add_update(tg.message(900010, 1))
    dead = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    p = poller(sqlite_runtime, dead)
    batch = fetch(p)
    with pytest.raises(Exception):
        p.accept(batch)
    assert p.offset is None
    p.intake = Intake(sqlite_runtime.redis)  # Redis is back
    batch = fetch(p)
    assert [u["update_id"] for u in batch] == [900010]
    assert p.accept(batch) == 1 and p.offset == 900011
    assert len(queued(redis_conn)) == 1


def test_refetched_updates_already_enqueued_are_skipped(sqlite_runtime, fake_api, redis_conn):
    updates.mark_accepted(redis_conn, "demo", "poller", [900020])
    fake_api.add_update(tg.message(900020, 1))
    fake_api.add_update(tg.message(900021, 2))
    p = poller(sqlite_runtime)
    assert p.accept(fetch(p)) == 1
    assert [e["meta"]["update_id"] for e in queued(redis_conn)] == [900021]
    assert p.offset == 900022


def run_in_thread(coroutine_factory):
    """Run the poller's loop in a thread; returns (thread, stop function)."""
    state = {}

    def target():
        async def main():
            state["loop"], state["stop"] = asyncio.get_running_loop(), asyncio.Event()
            await coroutine_factory(state["stop"])
        asyncio.run(main())
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    while "stop" not in state:
        time.sleep(0.01)
    return thread, lambda: state["loop"].call_soon_threadsafe(state["stop"].set)


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_poller_loop_deletes_a_webhook_retries_errors_and_confirms_on_stop(
        sqlite_runtime, fake_api, redis_conn):
    fake_api.webhook["url"] = "https://old.example/hook"
    fake_api.failures.append(("getUpdates", 502, "Bad Gateway"))
    p = poller(sqlite_runtime)
    p.poll_timeout = 0.5
    thread, stop = run_in_thread(p.run)
    fake_api.add_update(tg.message(900030, 1))
    fake_api.add_update(tg.message(900031, 2))
    wait_for(lambda: len(queued(redis_conn)) == 2)
    stop()
    thread.join(10)
    assert not thread.is_alive()
    assert fake_api.webhook["url"] == ""
    assert fake_api.updates == []  # confirmed before stopping
    assert fake_api.called("getUpdates")[-1]["offset"] == 900032


class PollingProcess:
    """``python -m gateway.edges.telegram.polling`` with its output collected by a thread."""

    def __init__(self, env):
        self.process = subprocess.Popen([sys.executable, "-m", "gateway.edges.telegram.polling"],
                                        env=env, cwd=PROJECT_DIR, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_output(self, text: str, timeout: float = 15) -> None:
        wait_for(lambda: text in self.output or self.process.poll() is not None, timeout)
        assert text in self.output, self.output

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=15)
        time.sleep(0.1)
        assert self.process.returncode == 0, self.output
        return self.output


def test_polling_process_end_to_end(sqlite_runtime, fake_api, redis_conn, tmp_path):
    process = PollingProcess(process_env(sqlite_runtime, tmp_path))
    try:
        process.wait_for_output("polling 1 bot(s): demo/poller")
        fake_api.add_update(tg.message(900040, 1, "from the process"))
        wait_for(lambda: len(queued(redis_conn)) == 1, timeout=20)
    finally:
        output = process.stop()
    assert "1 update(s) enqueued, offset 900041" in output and "stopped" in output
    assert fake_api.updates == []


def test_without_polling_bots_the_process_idles_until_sigterm(sqlite_runtime, fake_api,
                                                              tmp_path):
    sqlite_runtime.config = telegram_config(fake_api, demo_bots=[])
    process = PollingProcess(process_env(sqlite_runtime, tmp_path))
    try:
        process.wait_for_output("no Telegram bot has mode: polling")
        time.sleep(0.5)
        assert process.process.poll() is None, "the idle process must stay up"
    finally:
        output = process.stop()
    assert "stopped" in output
    assert fake_api.calls == []
