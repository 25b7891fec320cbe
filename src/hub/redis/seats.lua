-- The site's running patterns: KEYS[1] is a sorted set of channel -> when its seat lapses
-- (ms, Redis clock), in a slot of its own. Takes or renews the seat of ARGV[1] for ARGV[3] ms
-- unless ARGV[2] other channels hold one; answers 1 when it has the seat, else 0.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
  return 1
end
return 0
