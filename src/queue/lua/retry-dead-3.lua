--[[
  Requeues one dead-lettered job with a fresh set of attempts and removes it
  from the dead-letter stream. The job is rebuilt from the copy kept in the
  dead-letter entry, so it works after the status hash expired. Ignores
  MAX_QUEUE_SIZE: this is an operator's explicit request.

  KEYS[1] stream
  KEYS[2] dead     dead-letter stream
  KEYS[3] job      status hash

  ARGV[1] dead-letter entry id
  ARGV[2] job id (must match the entry)
  ARGV[3] TTL of the status hash, seconds

  Returns the new stream entry id, or false when the entry is gone or does not match.
]]
local entries = redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1])
if #entries == 0 then
  return false
end
local fields = {}
local raw = entries[1][2]
for i = 1, #raw, 2 do fields[raw[i]] = raw[i + 1] end
if fields['id'] ~= ARGV[2] or not fields['job'] then
  return false
end

local t = redis.call('TIME')
local now = string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000))
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], 'job', fields['job'], 'status', 'queued', 'attempts', 0, 'updatedAt', now)
redis.call('EXPIRE', KEYS[3], ARGV[3])
redis.call('XDEL', KEYS[2], ARGV[1])
return redis.call('XADD', KEYS[1], '*', 'id', ARGV[2])
