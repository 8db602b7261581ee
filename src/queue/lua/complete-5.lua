--[[
  Marks a job completed, acks and deletes its stream entry, and publishes it.
  The first finisher wins: a job that already finished is left as it is (a stalled
  worker finishing late, or its reclaim finishing second), nothing is counted or
  published, and the caller deletes its own (attempt-scoped) outputs.

  KEYS[1] stream
  KEYS[2] job        status hash
  KEYS[3] delayed
  KEYS[4] completed  counter of completed jobs
  KEYS[5] webhooks   zset of job ids whose webhook delivery is due, scored by due time (ms)

  ARGV[1] consumer group
  ARGV[2] result JSON
  ARGV[3] TTL of the status hash, seconds
  ARGV[4] finished channel
  ARGV[5] job id

  Returns {'completed' | 'unchanged', hash fields}, or false when the job is unknown.
]]
local status = redis.call('HGET', KEYS[2], 'status')
if not status then
  return false
end
if status == 'completed' or status == 'failed' then
  return {'unchanged', redis.call('HGETALL', KEYS[2])}
end

local entry = redis.call('HGET', KEYS[2], 'entry')
if entry then
  redis.call('XACK', KEYS[1], ARGV[1], entry)
  redis.call('XDEL', KEYS[1], entry)
end
redis.call('ZREM', KEYS[3], ARGV[5])

local t = redis.call('TIME')
local now = string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000))
redis.call('HSET', KEYS[2], 'status', 'completed', 'result', ARGV[2], 'finishedAt', now, 'updatedAt', now)
redis.call('HDEL', KEYS[2], 'error', 'entry')
redis.call('INCR', KEYS[4])
redis.call('EXPIRE', KEYS[2], ARGV[3])

-- The finish schedules the job's one webhook delivery in the same step (see record-webhook-2.lua).
local base = cjson.decode(redis.call('HGET', KEYS[2], 'job'))
if type(base.callback) == 'table' and base.callback.url then
  redis.call('HSET', KEYS[2], 'webhookDelivery', ARGV[5] .. '.' .. now, 'webhookEvent', 'job.completed',
    'webhookStatus', 'pending', 'webhookAttempts', 0)
  redis.call('HDEL', KEYS[2], 'webhookError')
  redis.call('ZADD', KEYS[5], now, ARGV[5])
end

local fields = redis.call('HGETALL', KEYS[2])
local event = {}
for i = 1, #fields, 2 do event[fields[i]] = fields[i + 1] end
redis.call('PUBLISH', ARGV[4], cjson.encode(event))
return {'completed', fields}
