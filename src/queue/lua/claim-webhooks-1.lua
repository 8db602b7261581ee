--[[
  Leases webhook deliveries that are due: each is pushed back by the lease and its
  attempt counted, so a dispatcher that dies mid-attempt leaves it to be claimed
  again when the lease ends (the zset is durable with AOF; nothing lives in memory).
  Deliveries whose job expired or is no longer pending are dropped.

  Shared out by lane (the job's tenant, or '@' and the callback's host without one;
  src/queue/webhook-lanes.ts computes the same): each pick goes to the lane with the
  fewest in flight, no lane past its cap. When the scan was full, the due entries of
  a lane at its cap are moved behind the others' (scored now + 1), so one lane's backlog
  cannot hide the rest from the next scan. With a cap of 0 deliveries go oldest due first, unshared.

  KEYS[1] webhooks  zset of job ids, scored by when each delivery is next due (ms)

  ARGV[1] status-hash key prefix of this queue (the job id is appended; same hash slot)
  ARGV[2] most deliveries to lease
  ARGV[3] lease, ms
  ARGV[4] most due entries to look at
  ARGV[5] deliveries one lane may have in flight on the caller's node; 0: no sharing
  ARGV[6..] lane, in flight on the caller's node (pairs)

  Returns a list of status hashes (flat field/value arrays), one per leased delivery.
]]
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local max = tonumber(ARGV[2])
local cap = tonumber(ARGV[5])
local sharing = cap > 0
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, sharing and tonumber(ARGV[4]) or max)

local function lane_of(key)
  local ok, job = pcall(cjson.decode, redis.call('HGET', key, 'job') or '')
  if not ok or type(job) ~= 'table' then return '@' end
  if type(job.tenant) == 'string' then return job.tenant end
  local url = type(job.callback) == 'table' and job.callback.url or ''
  if type(url) ~= 'string' then url = '' end
  return '@' .. (string.match(url, '^%a[%w+.-]*://([^/?#]*)') or '')
end

local load = {}
for i = 6, #ARGV, 2 do load[ARGV[i]] = tonumber(ARGV[i + 1]) end
local lanes, order = {}, {}
for _, id in ipairs(due) do
  local key = ARGV[1] .. id
  if redis.call('HGET', key, 'webhookStatus') ~= 'pending' then
    redis.call('ZREM', KEYS[1], id)
  else
    local lane = sharing and lane_of(key) or ''
    if lanes[lane] == nil then
      lanes[lane] = {}
      table.insert(order, lane)
      load[lane] = load[lane] or 0
    end
    table.insert(lanes[lane], id)
  end
end

local limit = sharing and cap or math.huge
local picked = {}
while #picked < max do
  local best = nil
  for _, lane in ipairs(order) do
    if #lanes[lane] > 0 and load[lane] < limit and (best == nil or load[lane] < load[best]) then best = lane end
  end
  if best == nil then break end
  table.insert(picked, table.remove(lanes[best], 1))
  load[best] = load[best] + 1
end

-- Only a full scan can have left entries unseen; otherwise every lane was looked at and nothing moves.
local full = sharing and #due >= tonumber(ARGV[4])
for _, lane in ipairs(order) do
  if full and #lanes[lane] > 0 and load[lane] >= limit then
    -- now + 1: strictly behind every due entry (a tie at now would sort by id and could stay ahead).
    for _, id in ipairs(lanes[lane]) do redis.call('ZADD', KEYS[1], string.format('%d', now + 1), id) end
  end
end

local out = {}
for _, id in ipairs(picked) do
  local key = ARGV[1] .. id
  redis.call('ZADD', KEYS[1], string.format('%d', now + tonumber(ARGV[3])), id)
  redis.call('HINCRBY', key, 'webhookAttempts', 1)
  table.insert(out, redis.call('HGETALL', key))
end
return out
