--[[
  Frees an idempotency key whose upload failed, only if it still names that upload's job.

  KEYS[1] idempotency  string: the job id the key created

  ARGV[1] job id of the failed upload

  Returns 1 when the key was deleted, else 0.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
