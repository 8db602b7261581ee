--[[
  Shared by the scripts that end a job (complete-5, fail-6, start-5): pasted in where a
  script says `--@include lib/finish.lua` (src/redis/scripts.ts), since a Redis script cannot
  call another one.
]]

-- Redis's own clock, in ms: every node stamps finishes from one clock.
local function now_ms()
  local t = redis.call('TIME')
  local ms = t[1] * 1000 + math.floor(t[2] / 1000)
  return string.format('%d', ms), ms
end

-- The finish schedules the job's one webhook delivery in the same step (see record-webhook-2.lua).
local function schedule_webhook(hash, webhooks, id, now, event)
  local base = cjson.decode(redis.call('HGET', hash, 'job'))
  if type(base.callback) == 'table' and base.callback.url then
    redis.call('HSET', hash, 'webhookDelivery', id .. '.' .. now, 'webhookEvent', event,
      'webhookStatus', 'pending', 'webhookAttempts', 0)
    redis.call('HDEL', hash, 'webhookError')
    redis.call('ZADD', webhooks, now, id)
  end
end

-- Publishes the finished job's hash as one JSON event; returns its fields.
local function publish_finished(hash, channel)
  local fields = redis.call('HGETALL', hash)
  local event = {}
  for i = 1, #fields, 2 do event[fields[i]] = fields[i + 1] end
  redis.call('PUBLISH', channel, cjson.encode(event))
  return fields
end
