--[[
  Resets the idle time of entries this consumer still holds, so a live worker
  busy with a long job is not mistaken for a dead one by XAUTOCLAIM. Entries
  already reclaimed by another consumer are left with it.

  KEYS[1] stream

  ARGV[1]  consumer group
  ARGV[2]  consumer name
  ARGV[3…] stream entry ids

  Returns how many entries were refreshed.
]]
local refreshed = 0
for i = 3, #ARGV do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if pending[1] and pending[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    refreshed = refreshed + 1
  end
end
return refreshed
