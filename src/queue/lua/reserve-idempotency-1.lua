--[[
  Records a job id under an idempotency key unless the key already names one.

  KEYS[1] idempotency  string: the job id the key created, with a TTL

  ARGV[1] job id of this upload
  ARGV[2] TTL of the key, seconds (JOB_TTL_SECONDS)

  Returns the job id the key names: ARGV[1] when it was free.
]]
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  return ARGV[1]
end
return redis.call('GET', KEYS[1])
