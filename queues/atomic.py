"""Writes that must land together, sent as one command: a Lua script runs them in Redis.

A MULTI/EXEC of N commands costs redis-py N + 2 commands packed and as many replies parsed
(about 9 µs each on the SMTP edge's hot path, where each group commit is one transaction);
``Writes`` collects the same commands and sends them as the arguments of one ``EVALSHA``
(redis-py loads the script again if Redis lost it). A script runs atomically like a
transaction, and in the same way: other clients never see a part of it, and when Redis refuses
the first write (out of memory) nothing is written. ``Writes`` takes the pipeline methods the
intake uses, so ``queues.rq_jobs.JobWriter`` writes into either.
"""
from __future__ import annotations

from redis import Redis
from redis.commands.core import Script

# ARGV: for each command its number of words, then the words.
RUN = """
local i = 1
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
return 1
"""


def atomic_script(redis: Redis) -> Script:
    """The script that runs ``Writes`` on ``redis`` (make it once per client)."""
    return redis.register_script(RUN)


class Writes:
    """Commands collected for one atomic round trip (``execute``)."""

    def __init__(self, script: Script):
        self.script = script
        self.words: list = []

    def add(self, *command) -> None:
        self.words += [len(command), *command]

    def sadd(self, key: str, *members) -> None:
        self.add("SADD", key, *members)

    def rpush(self, key: str, *values) -> None:
        self.add("RPUSH", key, *values)

    def hset(self, key: str, mapping: dict) -> None:
        self.add("HSET", key, *(word for pair in mapping.items() for word in pair))

    def hincrby(self, key: str, field: str, amount: int = 1) -> None:
        self.add("HINCRBY", key, field, amount)

    def set(self, key: str, value, ex: int) -> None:
        self.add("SET", key, value, "EX", ex)

    def execute(self) -> None:
        if self.words:
            self.script(args=self.words)
