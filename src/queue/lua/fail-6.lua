--[[
  Records a failed attempt. Transient failures with attempts left go to the
  delayed zset (exponential backoff) so the retry survives this worker dying;
  permanent failures and exhausted retries end as failed. Exhausted retries are
  also dead-lettered; permanent ones (bad input) are not, since retrying them
  cannot help.

  KEYS[1] stream
  KEYS[2] job      status hash
  KEYS[3] delayed
  KEYS[4] dead     dead-letter stream
  KEYS[5] failed   counter of failed jobs
  KEYS[6] webhooks zset of job ids whose webhook delivery is due (ms)

  ARGV[1]  consumer group
  ARGV[2]  error code
  ARGV[3]  error message
  ARGV[4]  '1' when permanent
  ARGV[5]  max attempts
  ARGV[6]  first retry delay, ms (doubles per attempt)
  ARGV[7]  TTL of the status hash, seconds
  ARGV[8]  finished channel
  ARGV[9]  job id
  ARGV[10] approximate max length of the dead-letter stream
  ARGV[11] the failing attempt's number, or '' to skip the check

  Returns {'retrying' | 'failed' | 'unchanged' | 'stale', hash fields}, or false when the job is
  unknown. 'stale': the attempt is not the current one (the job was reclaimed and another
  worker runs it now), so nothing is changed.
]]
--@include lib/finish.lua

local settled = settled_already(KEYS[2])
if settled ~= nil then
  return settled
end

if ARGV[11] ~= '' and tonumber(redis.call('HGET', KEYS[2], 'attempts') or '0') ~= tonumber(ARGV[11]) then
  return {'stale', redis.call('HGETALL', KEYS[2])}
end

drop_entry(KEYS[1], ARGV[1], KEYS[2])

local now, nowMs = now_ms()
local attempts = tonumber(redis.call('HGET', KEYS[2], 'attempts') or '0')
local err = cjson.encode({code = ARGV[2], message = ARGV[3]})
local permanent = ARGV[4] == '1'

if not permanent and attempts < tonumber(ARGV[5]) then
  local delay = tonumber(ARGV[6]) * 2 ^ math.max(attempts - 1, 0)
  redis.call('HSET', KEYS[2], 'status', 'queued', 'error', err, 'updatedAt', now)
  redis.call('ZADD', KEYS[3], string.format('%d', nowMs + delay), ARGV[9])
  redis.call('EXPIRE', KEYS[2], ARGV[7])
  return {'retrying', redis.call('HGETALL', KEYS[2])}
end

redis.call('HSET', KEYS[2], 'status', 'failed', 'error', err, 'finishedAt', now, 'updatedAt', now)
redis.call('ZREM', KEYS[3], ARGV[9])
redis.call('INCR', KEYS[5])
if not permanent then
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[10], '*', 'id', ARGV[9], 'reason', 'exhausted',
    'code', ARGV[2], 'message', ARGV[3], 'attempts', attempts, 'failedAt', now,
    'job', redis.call('HGET', KEYS[2], 'job'))
end
redis.call('EXPIRE', KEYS[2], ARGV[7])

schedule_webhook(KEYS[2], KEYS[6], ARGV[9], now, 'job.failed')
return {'failed', publish_finished(KEYS[2], ARGV[8])}
