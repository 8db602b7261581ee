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
local function drop()
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[1], ARGV[2])
end

local status = redis.call('HGET', KEYS[2], 'status')
if not status or status == 'completed' or status == 'failed' then
  drop()
  return false
end

local t = redis.call('TIME')
local now = string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000))
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

  -- The finish schedules the job's one webhook delivery in the same step (see record-webhook-2.lua).
  local base = cjson.decode(redis.call('HGET', KEYS[2], 'job'))
  if type(base.callback) == 'table' and base.callback.url then
    redis.call('HSET', KEYS[2], 'webhookDelivery', ARGV[7] .. '.' .. now, 'webhookEvent', 'job.failed',
      'webhookStatus', 'pending', 'webhookAttempts', 0)
    redis.call('HDEL', KEYS[2], 'webhookError')
    redis.call('ZADD', KEYS[5], now, ARGV[7])
  end

  local fields = redis.call('HGETALL', KEYS[2])
  local event = {}
  for i = 1, #fields, 2 do event[fields[i]] = fields[i + 1] end
  redis.call('PUBLISH', ARGV[5], cjson.encode(event))
  return {'dead', fields}
end

redis.call('HSET', KEYS[2], 'status', 'processing', 'attempts', attempts + 1,
  'startedAt', now, 'updatedAt', now, 'entry', ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return {'started', redis.call('HGETALL', KEYS[2])}
