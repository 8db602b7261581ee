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
--@include lib/finish.lua

local settled = settled_already(KEYS[2])
if settled ~= nil then
  return settled
end

drop_entry(KEYS[1], ARGV[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[5])

local now = now_ms()
redis.call('HSET', KEYS[2], 'status', 'completed', 'result', ARGV[2], 'finishedAt', now, 'updatedAt', now)
redis.call('HDEL', KEYS[2], 'error')
redis.call('INCR', KEYS[4])
redis.call('EXPIRE', KEYS[2], ARGV[3])

schedule_webhook(KEYS[2], KEYS[5], ARGV[5], now, 'job.completed')
return {'completed', publish_finished(KEYS[2], ARGV[4])}
