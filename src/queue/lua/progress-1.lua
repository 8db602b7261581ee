--[[
  Records how far a running video job is, for GET /v1/jobs/:id. Only while the job is
  processing: a finished job keeps its last value, and an erased job is not brought back.

  KEYS[1] job status hash

  ARGV[1]  frames done
  ARGV[2]  frames in all

  Returns 1 when the job exists, 0 when it is gone (erased or expired).
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 0 end
if status == 'processing' then
  redis.call('HSET', KEYS[1], 'framesDone', ARGV[1], 'framesTotal', ARGV[2])
end
return 1
