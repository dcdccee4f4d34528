"""The Lua scripts of ``workers.ingest.drain``: claim, start and finish a leader's claimed jobs.

Each writes, for every job, what RQ 3.0's own calls write (named at each step), so that RQ's
registries, maintenance, ``rq info`` and failed-job handling see RQ jobs: see
tests/workers/test_drain_bookkeeping.py, which compares the result with RQ's calls. Key
prefixes come from RQ's constants through ``ARGV``; values are computed by the caller.
"""
from __future__ import annotations

# KEYS: queue list, its intermediate list. ARGV: most jobs to claim, attempts key prefix, job key
# prefix, retries_left of a fresh job. Claims the head of the queue while it is fresh, in order;
# stops at the first job that is not (it is left where it is, for RQ to hand out alone).
# Returns id, data, result_ttl of each claimed job.
CLAIM = """
local claimed = {}
for _ = 1, tonumber(ARGV[1]) do
  local id = redis.call('LINDEX', KEYS[1], 0)
  if not id then break end
  if redis.call('EXISTS', ARGV[2] .. id) == 1 then break end
  local job = redis.call('HMGET', ARGV[3] .. id, 'retries_left', 'data', 'result_ttl')
  if job[1] ~= ARGV[4] or not job[2] then break end
  local ttl = job[3] or ''
  if ttl ~= '' and (tonumber(ttl) or 0) <= 0 then break end
  redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
  claimed[#claimed + 1] = id
  claimed[#claimed + 1] = job[2]
  claimed[#claimed + 1] = ttl
end
return claimed
"""

# KEYS: started registry, intermediate list, the worker's execution index ('' for no worker).
# ARGV: worker name, now (timestamp), now (RQ's ISO format), execution TTL, started registry
# score, execution registry score, job / execution / executions / attempts key prefixes,
# attempts TTL, then job id, execution id for each job.
START = """
local worker, stamp, iso, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local job_key, execution_key, executions_key, attempts_key = ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local members = {}
for i = 12, #ARGV, 2 do
  local id, execution = ARGV[i], ARGV[i + 1]
  local composite = id .. ':' .. execution
  -- Execution.create: Execution.save, ExecutionRegistry.add, StartedJobRegistry.add_execution
  redis.call('HSET', execution_key .. composite, 'id', execution, 'job_id', id,
             'created_at', stamp, 'last_heartbeat', stamp, 'worker_name', worker)
  redis.call('EXPIRE', execution_key .. composite, ttl)
  redis.call('ZADD', executions_key .. id, ARGV[6], execution)
  redis.call('EXPIRE', executions_key .. id, ttl + 60)
  redis.call('ZADD', KEYS[1], ARGV[5], composite)
  members[#members + 1] = composite
  -- Job.prepare_for_execution; the worker's PERSIST and LREM from the intermediate list
  redis.call('HSET', job_key .. id, 'last_heartbeat', iso, 'status', 'started',
             'started_at', iso, 'worker_name', worker)
  redis.call('PERSIST', job_key .. id)
  redis.call('LREM', KEYS[2], 1, id)
  -- the attempt count of workers.ingest.poison
  redis.call('HINCRBY', attempts_key .. id, 'started', 1)
  redis.call('EXPIRE', attempts_key .. id, ARGV[11])
end
if KEYS[3] ~= '' and #members > 0 then  -- Execution.create's worker index, one SADD for all
  redis.call('SADD', KEYS[3], unpack(members))
  redis.call('EXPIRE', KEYS[3], ttl + 60)
end
return #members
"""

# KEYS: started registry, finished registry, the worker's execution index ('' for no worker).
# ARGV: worker name, ended_at (RQ's ISO format), ended_at (timestamp), now (whole seconds),
# job / results / execution / executions / attempts key prefixes, the successful result type,
# then job id, execution id, result TTL (> 0: claimed jobs have one), return value (serialized,
# base64), execution start (timestamp) for each job.
FINISH = """
local worker, iso, ended, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local job_key, results_key, execution_key = ARGV[5], ARGV[6], ARGV[7]
local executions_key, attempts_key, successful = ARGV[8], ARGV[9], ARGV[10]
for i = 11, #ARGV, 5 do
  local id, execution, ttl = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local composite = id .. ':' .. execution
  -- Job._handle_success: status and ended_at, Result.create, FinishedJobRegistry.add
  redis.call('HSET', job_key .. id, 'status', 'finished', 'ended_at', iso)
  redis.call('XADD', results_key .. id, 'MAXLEN', '~', 10, '*', 'type', successful,
             'worker_name', worker, 'return_value', ARGV[i + 3], 'execution_id', execution,
             'execution_started_at', ARGV[i + 4], 'execution_ended_at', ended)
  redis.call('EXPIRE', results_key .. id, ttl)
  redis.call('ZADD', KEYS[2], now + ttl, id)
  -- Job.cleanup
  redis.call('EXPIRE', job_key .. id, ttl)
  -- Execution.delete
  redis.call('DEL', execution_key .. composite)
  redis.call('ZREM', KEYS[1], composite)
  redis.call('ZREM', executions_key .. id, execution)
  if KEYS[3] ~= '' then redis.call('SREM', KEYS[3], composite) end
  -- the attempt count of workers.ingest.poison: this attempt is done
  redis.call('DEL', attempts_key .. id)
end
return 1
"""
