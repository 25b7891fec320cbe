-- A visitor channel's event pattern, shared by every instance. All three keys carry the
-- channel's hash tag, so they share its slot (Redis Cluster runs this like one server).
-- KEYS[1] the pattern's name; KEYS[2] the audience, a sorted set of instance -> when it last
-- had a listener (ms, Redis clock); KEYS[3] the lease, the instance that runs the pattern.
-- ARGV: mode (set | get | beat | release), this instance, the name to set (set) or how long
-- ago (ms) this instance last had a listener ("" for none; beat), idle_ms, lease_ms.
-- Answers {name or "", 1 when this instance holds the lease else 0}.
local mode, me, idle, lease = ARGV[1], ARGV[2], tonumber(ARGV[4]), tonumber(ARGV[5])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local keep = idle + lease

if mode == 'release' then
  if redis.call('GET', KEYS[3]) == me then
    redis.call('DEL', KEYS[3])
  end
  return {'', 0}
end

local function mark(at)
  redis.call('ZADD', KEYS[2], 'GT', at, me)
  redis.call('PEXPIRE', KEYS[2], keep)
end

if mode == 'set' then
  -- Choosing counts as a listen, so the pattern gets idle_ms for a listener to come.
  mark(now)
  if ARGV[3] == 'quiet' then
    redis.call('DEL', KEYS[1])
    return {'', 0}
  end
  redis.call('SET', KEYS[1], ARGV[3], 'PX', keep)
elseif mode == 'beat' and ARGV[3] ~= '' then
  mark(now - tonumber(ARGV[3]))
end

local name = redis.call('GET', KEYS[1])
if not name then
  return {'', 0}
end
local last = redis.call('ZRANGE', KEYS[2], '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, 1,
  'WITHSCORES')
if #last == 0 or now - tonumber(last[2]) >= idle then
  -- Nobody anywhere has listened for idle_ms: the pattern stops.
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  return {'', 0}
end
redis.call('PEXPIRE', KEYS[1], keep)
if mode == 'get' then
  return {name, 0}
end
local holder = redis.call('GET', KEYS[3])
if not holder or holder == me then
  redis.call('SET', KEYS[3], me, 'PX', lease)
  return {name, 1}
end
return {name, 0}
