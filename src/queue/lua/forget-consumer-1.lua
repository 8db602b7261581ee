--[[
  Deletes a consumer from the group on shutdown, but only when it holds no
  pending entries: DELCONSUMER would otherwise drop them and lose those jobs.
  Atomic, so an entry delivered during shutdown is never dropped.

  KEYS[1] stream

  ARGV[1] consumer group
  ARGV[2] consumer name

  Returns 1 when deleted, 0 when kept.
]]
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #pending > 0 then
  return 0
end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
