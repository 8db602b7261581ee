--[[
  Records a job as queued and appends it to the stream, unless the backlog is full.
  Backlog = XLEN(stream) + ZCARD(delayed): acked entries are deleted from the
  stream, so XLEN counts exactly the undelivered and pending (unacked) entries.

  KEYS[1] stream   job stream (entries: id = job id)
  KEYS[2] delayed  retry schedule (zset: job id scored by due time, ms)
  KEYS[3] job      status hash of this job

  ARGV[1] job id
  ARGV[2] job JSON (the fields that never change)
  ARGV[3] attempts so far
  ARGV[4] TTL of the status hash, seconds
  ARGV[5] maximum backlog (MAX_QUEUE_SIZE)

  Returns the stream entry id, or false when the backlog is full.
]]
local backlog = redis.call('XLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2])
if backlog >= tonumber(ARGV[5]) then
  return false
end
local t = redis.call('TIME')
local now = string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000))
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], 'job', ARGV[2], 'status', 'queued', 'attempts', ARGV[3], 'updatedAt', now)
redis.call('EXPIRE', KEYS[3], ARGV[4])
return redis.call('XADD', KEYS[1], '*', 'id', ARGV[1])
