"""Who is on a ticket right now: agents viewing it or typing an answer (Redis only).

Per ticket a sorted set ``presence:<workspace>:<number>`` holds each agent with the time its
entry expires (score, epoch seconds) and a hash ``...:state`` its state and since when. An
entry lives ``TTL_S`` after its latest renewal; both keys expire with the latest entry, so a
ticket nobody looks at leaves nothing behind. A renewal is one Lua script (atomic: expired
entries go, the agent's entry is renewed, ``since`` kept while the state stays the same).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from redis import Redis

TTL_S = 60
STATES = ("viewing", "typing")
PREFIX = "presence"

RENEW = """
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
if #expired > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
  redis.call('HDEL', KEYS[2], unpack(expired))
end
local since = ARGV[3]
local old = redis.call('HGET', KEYS[2], ARGV[1])
if old then
  local state, at = string.match(old, '^(%a+) (.+)$')
  if state == ARGV[2] then since = at end
end
redis.call('ZADD', KEYS[1], tonumber(ARGV[3]) + tonumber(ARGV[4]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ' ' .. since)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return since
"""


@dataclass(frozen=True)
class Present:
    agent: str
    state: str
    since: float        # epoch seconds
    expires_at: float


def keys(workspace: str, number: int) -> tuple[str, str]:
    base = f"{PREFIX}:{workspace}:{number}"
    return base, f"{base}:state"


def renew(redis: Redis, workspace: str, number: int, agent: str, state: str,
          now: float | None = None) -> None:
    """The agent is on the ticket in ``state`` (one of ``STATES``) for the next ``TTL_S``."""
    if state not in STATES:
        raise ValueError(f"unknown presence state {state!r}")
    now = time.time() if now is None else now
    redis.eval(RENEW, 2, *keys(workspace, number), agent, state, repr(now), TTL_S)


def present(redis: Redis, workspace: str, number: int,
            now: float | None = None) -> list[Present]:
    """The agents on the ticket now: typing first, then by agent."""
    now = time.time() if now is None else now
    entries, states = keys(workspace, number)
    with redis.pipeline() as pipe:
        pipe.zrangebyscore(entries, f"({now!r}", "+inf", withscores=True)
        pipe.hgetall(states)
        alive, recorded = pipe.execute()
    recorded = {_text(k): _text(v) for k, v in recorded.items()}
    found = []
    for member, expires in alive:
        agent = _text(member)
        state, _, since = recorded.get(agent, "viewing ").partition(" ")
        found.append(Present(agent, state, float(since or now), expires))
    return sorted(found, key=lambda p: (p.state != "typing", p.agent))


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
