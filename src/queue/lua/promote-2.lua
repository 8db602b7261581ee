--[[
  Moves retries whose backoff has elapsed from the delayed zset back onto the stream.
  Uses the server clock so nodes with skewed clocks agree on when a retry is due.

  KEYS[1] stream
  KEYS[2] delayed

  ARGV[1] most jobs to move in one call

  Returns milliseconds until the next delayed job is due (0 if more are due now), or -1 if none.
]]
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('XADD', KEYS[1], '*', 'id', id)
end
local nextDue = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if nextDue[2] then
  return math.max(0, tonumber(nextDue[2]) - now)
end
return -1
