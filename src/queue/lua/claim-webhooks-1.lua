--[[
  Leases webhook deliveries that are due: each is pushed back by the lease and its
  attempt counted, so a dispatcher that dies mid-attempt leaves it to be claimed
  again when the lease ends (the zset is durable with AOF; nothing lives in memory).
  Deliveries whose job expired or is no longer pending are dropped.

  KEYS[1] webhooks  zset of job ids, scored by when each delivery is next due (ms)

  ARGV[1] status-hash key prefix of this queue (the job id is appended; same hash slot)
  ARGV[2] most deliveries to lease
  ARGV[3] lease, ms

  Returns a list of status hashes (flat field/value arrays), one per leased delivery.
]]
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(due) do
  local key = ARGV[1] .. id
  if redis.call('HGET', key, 'webhookStatus') ~= 'pending' then
    redis.call('ZREM', KEYS[1], id)
  else
    redis.call('ZADD', KEYS[1], string.format('%d', now + tonumber(ARGV[3])), id)
    redis.call('HINCRBY', key, 'webhookAttempts', 1)
    table.insert(out, redis.call('HGETALL', key))
  end
end
return out
