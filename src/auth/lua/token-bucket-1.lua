--[[
  Token bucket for one tenant, refilled continuously from the Redis server's clock so every
  API node shares one bucket and one notion of time.

  KEYS[1]  bucket hash (<prefix>:ratelimit:<tenant>), fields tokens and at (ms)

  ARGV[1]  capacity (RATE_LIMIT_BURST)
  ARGV[2]  refill rate, tokens per second
  ARGV[3]  cost of this request

  Returns {allowed (1|0), whole tokens left, ms until the cost would be available}.
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or capacity
local at = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate / 1000)
local allowed = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = math.ceil((cost - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * 1000 / rate) + 1000)
return {allowed, math.floor(tokens), wait}
