--[[
  Records one webhook attempt of a job: delivered (any 2xx), or failed and either
  scheduled again after an exponential backoff or, past the attempt limit, marked
  failed for good. An attempt of another delivery (an older finish) changes nothing.

  KEYS[1] webhooks  zset of job ids, scored by when each delivery is next due (ms)
  KEYS[2] job       status hash

  ARGV[1] job id
  ARGV[2] delivery id of the attempt
  ARGV[3] error of the attempt, or '' when delivered
  ARGV[4] max attempts
  ARGV[5] first retry delay, ms (doubles per attempt)
  ARGV[6] longest retry delay, ms

  Returns 'delivered', 'retrying', 'failed' or 'unchanged'.
]]
if redis.call('HGET', KEYS[2], 'webhookDelivery') ~= ARGV[2] or redis.call('HGET', KEYS[2], 'webhookStatus') ~= 'pending' then
  return 'unchanged'
end
if ARGV[3] == '' then
  redis.call('HSET', KEYS[2], 'webhookStatus', 'delivered')
  redis.call('HDEL', KEYS[2], 'webhookError')
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 'delivered'
end
redis.call('HSET', KEYS[2], 'webhookError', ARGV[3])
local attempts = tonumber(redis.call('HGET', KEYS[2], 'webhookAttempts') or '0')
if attempts >= tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[2], 'webhookStatus', 'failed')
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 'failed'
end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local delay = math.min(tonumber(ARGV[5]) * 2 ^ math.max(attempts - 1, 0), tonumber(ARGV[6]))
redis.call('ZADD', KEYS[1], string.format('%d', now + delay), ARGV[1])
return 'retrying'
