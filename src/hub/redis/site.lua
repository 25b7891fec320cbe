-- The start of every script: the site, and which histories still count.
--
-- KEYS[3]  the site of the channel's hash slot (every key a script touches shares that slot,
--          so the rule below holds slot by slot, whichever Redis process serves it): a hash of `genesis` (the token every epoch starts with), `run` (the
--          run_id of the Redis process the genesis belongs to) and one generation counter
--          `g<bucket>` per bucket of channel names
-- ARGV[1]  a fresh token, the genesis if the site needs a new one
--
-- The rule: the site of a slot belongs to one Redis process. A process that has not served it before
-- (a restart, a failover to a replica, a restore from a snapshot, or the site evicted) may
-- hold data older than what clients were given, so the site takes a new genesis: every
-- history begun from then on has an epoch never used before. A channel's history counts only
-- if this process wrote it (its meta's `run`); any other may have been rolled back, so it
-- reads as an empty channel and its next publish begins a new history. Cursors into it then
-- answer `reset`, and no id ever names two different events.

local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
local site = redis.call('HMGET', KEYS[3], 'genesis', 'run')
local genesis = site[1]
if not genesis or site[2] ~= run then
  genesis = ARGV[1]
  redis.call('DEL', KEYS[3])
  redis.call('HSET', KEYS[3], 'genesis', genesis, 'run', run)
end

local function current(meta)
  return redis.call('HGET', meta, 'run') == run
end

