-- Reads a channel's head and part of its stream, atomically, creating the channel's epoch if
-- it has none (so that a client holding `<epoch>-0` does not miss event 1 when a later first
-- publish comes: it finds the same epoch).
--
-- KEYS[1]  the channel's meta hash (see publish.lua)
-- KEYS[2]  the channel's stream
-- ARGV[1]  an epoch to use if the channel has none yet
-- ARGV[2]  how long (ms) the meta hash lives after this read
-- ARGV[3]  'after': entries after seq ARGV[5], only if ARGV[4] is the channel's epoch
--          'last':  the newest ARGV[5] entries
--          'head':  no entries
-- ARGV[6]  the most entries to return
-- Returns {epoch, head, now, {{seq, at, data}, ...}} in sequence order, `now` in milliseconds
-- on the Redis server's clock (the clock of every `at`).

if redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], 'seq', 0)
  redis.call('DEL', KEYS[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local head = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local raw = {}
if ARGV[3] == 'last' then
  local newest = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', ARGV[5])
  for i = #newest, 1, -1 do
    raw[#raw + 1] = newest[i]
  end
elseif ARGV[3] == 'after' and ARGV[4] == epoch and tonumber(ARGV[5]) < head then
  local from = string.format('%d', tonumber(ARGV[5]) + 1)
  raw = redis.call('XRANGE', KEYS[2], from, '+', 'COUNT', ARGV[6])
end

local entries = {}
for i, entry in ipairs(raw) do
  local seq = tonumber(string.match(entry[1], '^(%d+)'))
  entries[i] = {seq, entry[2][2], entry[2][4]}
end
return {epoch, head, now, entries}
