-- Reads a channel's head and part of its stream, atomically. It creates nothing for the
-- channel: a channel nobody has published to (or whose keys expired, or whose history does
-- not count any more, see site.lua) answers head 0 under the epoch its next history will
-- take (see publish.lua), so a cursor taken from it still sees that history's first event.
--
-- KEYS[1]  the channel's meta hash (see publish.lua)
-- KEYS[2]  the channel's stream
-- KEYS[3]  the site (see site.lua)
-- ARGV[1]  a fresh token (see site.lua)
-- ARGV[2]  how long (ms) an existing channel's meta hash lives after this read
-- ARGV[3]  'after': entries after seq ARGV[5] if ARGV[4] is the channel's epoch, else
--                   (a cursor into another history) the whole stream from its oldest entry
--          'last':  the newest ARGV[5] entries
--          'head':  no entries
-- ARGV[6]  the most entries to return
-- ARGV[7]  the channel's bucket
-- Returns {epoch, head, now, {{seq, at, data}, ...}} in sequence order, `now` in milliseconds
-- on the Redis server's clock (the clock of every `at`).

local epoch, head
if current(KEYS[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  epoch = redis.call('HGET', KEYS[1], 'epoch')
  head = tonumber(redis.call('HGET', KEYS[1], 'seq'))
else
  epoch = genesis .. (redis.call('HGET', KEYS[3], 'g' .. ARGV[7]) or '0')
  head = 0
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local raw = {}
if head > 0 and ARGV[3] == 'last' then
  local newest = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', ARGV[5])
  for i = #newest, 1, -1 do
    raw[#raw + 1] = newest[i]
  end
elseif head > 0 and ARGV[3] == 'after' and ARGV[4] ~= epoch then
  -- The stream belongs to this history: a channel whose history does not count reads as
  -- empty (head 0) above, whatever its stream still holds.
  raw = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', ARGV[6])
elseif ARGV[3] == 'after' and tonumber(ARGV[5]) < head then
  local from = string.format('%d', tonumber(ARGV[5]) + 1)
  raw = redis.call('XRANGE', KEYS[2], from, '+', 'COUNT', ARGV[6])
end

local entries = {}
for i, entry in ipairs(raw) do
  local seq = tonumber(string.match(entry[1], '^(%d+)'))
  entries[i] = {seq, entry[2][2], entry[2][4]}
end
return {epoch, head, now, entries}
