--[[
  Shared by the scripts that end a job (complete-5, fail-6, start-5): pasted in where a
  script says `--@include lib/finish.lua` (src/redis/scripts.ts), since a Redis script cannot
  call another one.
]]

-- The first finisher wins. false: the job is unknown; {'unchanged', fields}: it already finished
-- (a stalled worker finishing late, or its reclaim finishing second); nil: go on and finish it.
local function settled_already(hash)
  local status = redis.call('HGET', hash, 'status')
  if not status then
    return false
  end
  if status == 'completed' or status == 'failed' then
    return {'unchanged', redis.call('HGETALL', hash)}
  end
  return nil
end

-- Acks and deletes the job's stream entry, if it has one, so no worker is handed it again.
local function drop_entry(stream, group, hash)
  local entry = redis.call('HGET', hash, 'entry')
  if entry then
    redis.call('XACK', stream, group, entry)
    redis.call('XDEL', stream, entry)
    redis.call('HDEL', hash, 'entry')
  end
end

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
