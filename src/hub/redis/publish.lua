-- Publishes one event, atomically (Redis runs a script with nothing in between).
--
-- KEYS[1]  the channel's meta hash: `epoch` (its history's token) and `seq` (its head)
-- KEYS[2]  the channel's stream: one entry per event, id `<seq>-0`, fields `at` and `data`
-- ARGV[1]  an epoch to use if the channel has none yet
-- ARGV[2]  the event's data, as JSON text
-- ARGV[3]  history: how many entries the stream keeps
-- ARGV[4]  history_ttl in milliseconds: the age after which an entry is dropped
-- ARGV[5]  how long (ms) the keys live after this event; idle channels expire by themselves
-- ARGV[6]  the channel's pub/sub topic
-- Returns {epoch, seq, at} with `at` in milliseconds on the Redis server's clock, the one
-- clock every instance shares.

if redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1]) == 1 then
  -- A new history: whatever an older one left behind must not be replayed under it.
  redis.call('DEL', KEYS[2])
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

redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[3], id, 'at', at_text, 'data', ARGV[2])

-- Entries older than history_ttl are no longer replayable. They sit at the front of the
-- stream (it is in time order), so drop from the front until a fresh one.
local cutoff = at - tonumber(ARGV[4])
while true do
  local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
  if first == nil or tonumber(first[2][2]) >= cutoff or first[1] == id then
    break
  end
  redis.call('XDEL', KEYS[2], first[1])
end

redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PUBLISH', ARGV[6], epoch .. ' ' .. string.format('%d', seq) .. ' ' .. at_text .. ' ' .. ARGV[2])
return {epoch, seq, at}
