-- Publishes one event, atomically (Redis runs a script with nothing in between).
--
-- KEYS[1]  the channel's meta hash: `epoch` (its history's token), `seq` (its head), `bytes`
--          (the bytes of data its stream holds) and `run` (see site.lua)
-- KEYS[2]  the channel's stream: one entry per event, id `<seq>-0`, fields `at` and `data`
-- KEYS[3]  the site (see site.lua)
-- KEYS[4]  what this publish is remembered by: its idempotency key,
--          `<prefix>:{<channel>}:key:<key>`, or without one a one-shot key,
--          `<prefix>:{<channel>}:once:<token>`, so that a retry of this very call (the Redis
--          client retries a command whose connection dropped, maybe after it ran) stores nothing
-- ARGV[1]  a fresh token (see site.lua)
-- ARGV[2]  the event's data, as compact JSON text
-- ARGV[3]  history: how many entries the stream keeps
-- ARGV[4]  history_ttl in milliseconds: the age after which an entry is dropped
-- ARGV[5]  how long (ms) the keys live after this event; idle channels expire by themselves
-- ARGV[6]  the channel's pub/sub topic
-- ARGV[7]  history_bytes: how many bytes of data the stream keeps
-- ARGV[8]  the channel's bucket
-- ARGV[9]  the call's token: drawn afresh by the instance for each publish, never reused
-- ARGV[10] how long (ms) KEYS[4] is remembered
-- ARGV[11] how to announce it: 'PUBLISH' (one server) or 'SPUBLISH' (a cluster: sharded pub/sub,
--          from the channel's slot, to the instances subscribed there)
-- Returns {epoch, seq, at, 0} with `at` in milliseconds on the Redis server's clock (the one
-- clock every instance shares), also when an earlier attempt of this call (same token) stored
-- the event, or {epoch, seq, 0, 1} when another publish used the key already: the id of the
-- event it stored then, and nothing stored now.

local first = redis.call('GET', KEYS[4])
if first then
  -- `<epoch>-<seq> <at> <token>` (`<epoch>-<seq>` alone from an older version)
  local first_epoch, first_seq, first_at, token = string.match(first, '^(%w+)-(%d+) (%d+) (%w+)$')
  if token == ARGV[9] then
    return {first_epoch, tonumber(first_seq), tonumber(first_at), 0}
  end
  first_epoch, first_seq = string.match(first, '^(%w+)-(%d+)')
  return {first_epoch, tonumber(first_seq), 0, 1}
end
if not current(KEYS[1]) then
  -- A new history. It takes the epoch the empty channel's head showed (read.lua) and moves
  -- the bucket on, so the channel's next history gets an epoch no earlier one had; whatever
  -- an older history left behind must not be replayed under it.
  local generation = redis.call('HINCRBY', KEYS[3], 'g' .. ARGV[8], 1) - 1
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', genesis .. generation, 'seq', 0, 'bytes', 0, 'run', run)
end
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
-- The stream's newest id must stay below the new one, or XADD would fail after the counter
-- moved (a script's writes are not rolled back). It can only be otherwise if the keys were
-- changed by hand; then skip past what the stream holds rather than fail every publish.
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
if top ~= nil then
  local top_seq = tonumber(string.match(top[1], '^(%d+)'))
  if top_seq >= seq then
    seq = top_seq + 1
    redis.call('HSET', KEYS[1], 'seq', seq)
  end
end
local time = redis.call('TIME')
local at = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local id = string.format('%d-0', seq)
local at_text = string.format('%d', at)

redis.call('XADD', KEYS[2], id, 'at', at_text, 'data', ARGV[2])
local bytes = redis.call('HINCRBY', KEYS[1], 'bytes', #ARGV[2])

-- Drop from the front (the oldest) while the stream holds too many entries or bytes, or
-- entries older than history_ttl; the new entry always stays.
local cutoff = at - tonumber(ARGV[4])
local count, max_count, max_bytes = redis.call('XLEN', KEYS[2]), tonumber(ARGV[3]), tonumber(ARGV[7])
while count > 1 do
  local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
  if count <= max_count and bytes <= max_bytes and tonumber(first[2][2]) >= cutoff then
    break
  end
  redis.call('XDEL', KEYS[2], first[1])
  bytes = redis.call('HINCRBY', KEYS[1], 'bytes', -#first[2][4])
  count = count - 1
end

redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('SET', KEYS[4], epoch .. '-' .. string.format('%d', seq) .. ' ' .. at_text .. ' ' .. ARGV[9], 'PX', ARGV[10])
redis.call(ARGV[11], ARGV[6], epoch .. ' ' .. string.format('%d', seq) .. ' ' .. at_text .. ' ' .. ARGV[2])
return {epoch, seq, at, 0}
