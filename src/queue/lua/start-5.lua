--[[
  Turns one delivered stream entry into a started attempt (status processing,
  attempts + 1), or dead-letters the job when its attempts are used up, which
  only happens when workers died or stalled holding it.

  KEYS[1] stream
  KEYS[2] job      status hash
  KEYS[3] dead     dead-letter stream
  KEYS[4] failed   counter of failed jobs
  KEYS[5] webhooks zset of job ids whose webhook delivery is due (ms)

  ARGV[1] consumer group
  ARGV[2] stream entry id
  ARGV[3] max attempts
  ARGV[4] TTL of the status hash, seconds
  ARGV[5] finished channel
  ARGV[6] approximate max length of the dead-letter stream
  ARGV[7] job id

  Returns {'started', hash fields}, {'dead', hash fields}, or false for a stale
  entry (job expired or already finished), which is acked and deleted.
]]
--@include lib/finish.lua

local function drop()
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[1], ARGV[2])
end

local status = redis.call('HGET', KEYS[2], 'status')
if not status or status == 'completed' or status == 'failed' then
  drop()
  return false
end

local now = now_ms()
local attempts = tonumber(redis.call('HGET', KEYS[2], 'attempts') or '0')

if attempts >= tonumber(ARGV[3]) then
  local message = 'Delivered ' .. attempts .. ' times without finishing (worker stalled or died)'
  local err = cjson.encode({code = 'MAX_ATTEMPTS', message = message})
  redis.call('HSET', KEYS[2], 'status', 'failed', 'error', err, 'finishedAt', now, 'updatedAt', now)
  redis.call('HDEL', KEYS[2], 'entry')
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'id', ARGV[7], 'reason', 'stalled',
    'code', 'MAX_ATTEMPTS', 'message', message, 'attempts', attempts, 'failedAt', now,
    'job', redis.call('HGET', KEYS[2], 'job'))
  redis.call('INCR', KEYS[4])
  drop()
  redis.call('EXPIRE', KEYS[2], ARGV[4])

  schedule_webhook(KEYS[2], KEYS[5], ARGV[7], now, 'job.failed')
  return {'dead', publish_finished(KEYS[2], ARGV[5])}
end

redis.call('HSET', KEYS[2], 'status', 'processing', 'attempts', attempts + 1,
  'startedAt', now, 'updatedAt', now, 'entry', ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return {'started', redis.call('HGETALL', KEYS[2])}
