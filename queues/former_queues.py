"""Jobs left on a channel's former queue (``messenger``) moved onto its queue (``telegram``).

An operator who upgrades may have jobs on the old queue: waiting, waiting for a retry's backoff
(the scheduled registry), failed (for ``python -m queues.replay failed``), or abandoned by a
killed worker (the started registry and RQ's intermediate list, recovered by maintenance). No
worker listens there any more, so the worker of the channel's queue moves them all at its start
and at every maintenance pass (``workers.run``): an edge of the old version still running
during a rolling upgrade is drained within one pass as well. A worker listens on one queue only
(RQ's safe dequeue needs that), so moving beats listening on both.

One Lua script moves every entry and rewrites each job's ``origin`` (where RQ re-queues a retry)
atomically: no entry is seen twice or lost by workers of either version running meanwhile.
Waiting jobs go to the head of the queue in their order: they were received first. Their
envelopes still say ``messenger``; the ingest job reads them through
``queues.channels.current_envelope``.
"""
from __future__ import annotations

import logging

from redis import Redis
from rq import Queue
from rq.job import Job

from queues.channels import former_queues

log = logging.getLogger(__name__)

# KEYS: (old, new) pairs: queue list, intermediate list, then the scheduled, failed and started
# registries (sorted sets; a started entry is "<job id>:<execution id>"); last RQ's set of queues.
# ARGV: job key prefix, new origin, old queue key, new queue key. Returns the entries moved.
MOVE_SCRIPT = """
local moved = 0
local function adopt(entry)
  local job = ARGV[1] .. string.match(entry, '^[^:]*')
  if redis.call('EXISTS', job) == 1 then redis.call('HSET', job, 'origin', ARGV[2]) end
  moved = moved + 1
end
local waiting = redis.call('LRANGE', KEYS[1], 0, -1)
for i = #waiting, 1, -1 do adopt(waiting[i]); redis.call('LPUSH', KEYS[2], waiting[i]) end
for _, entry in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
  adopt(entry); redis.call('RPUSH', KEYS[4], entry)
end
for pair = 5, 9, 2 do
  local entries = redis.call('ZRANGE', KEYS[pair], 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do
    adopt(entries[i]); redis.call('ZADD', KEYS[pair + 1], entries[i + 1], entries[i])
  end
end
redis.call('DEL', KEYS[1], KEYS[3], KEYS[5], KEYS[7], KEYS[9])
redis.call('SREM', KEYS[11], ARGV[3])
if moved > 0 then redis.call('SADD', KEYS[11], ARGV[4]) end
return moved
"""


def _keys(queue: Queue) -> list[str]:
    return [queue.key, queue.intermediate_queue_key, queue.scheduled_job_registry.key,
            queue.failed_job_registry.key, queue.started_job_registry.key]


def adopt(redis: Redis, queue_name: str) -> int:
    """Move every job of ``queue_name``'s former queues onto it; return how many entries moved.

    Costs no Redis call for a queue that was never renamed.
    """
    moved = 0
    target = Queue(queue_name, connection=redis)
    for former in former_queues(queue_name):
        old = Queue(former, connection=redis)
        keys = [key for pair in zip(_keys(old), _keys(target)) for key in pair]
        count = redis.register_script(MOVE_SCRIPT)(
            keys=keys + [Queue.redis_queues_keys],
            args=[Job.redis_job_namespace_prefix, queue_name, old.key, target.key])
        if count:
            log.warning("moved %d job(s) from the former queue %r to %r", count, former,
                        queue_name)
        moved += count
    return moved
