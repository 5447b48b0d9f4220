-- Where a client batch stands for its producer. Runs on the producer's home shard.
--
-- ARGV: tag, producer, sequence, digest.
-- Keys: "<tag>:producer:<p>" sorted set of committed batches (member "<sequence>:<digest>",
-- score = sequence; the newest ones), "<tag>:producer-floor:<p>" the highest sequence trimmed
-- from it.
-- Returns {verdict, newest committed sequence}: "new", "duplicate" (committed with the same
-- digest, or older than what is kept), "out_of_order" (below the newest, never committed),
-- "mismatch" (committed with another digest).

local key = tag .. ':producer:' .. ARGV[2]
local sequence = tonumber(ARGV[3])
local newest = redis.call('ZREVRANGE', key, 0, 0, 'WITHSCORES')[2] or '0'
local same = redis.call('ZRANGEBYSCORE', key, ARGV[3], ARGV[3])
if #same > 0 then
  if same[1] == ARGV[3] .. ':' .. ARGV[4] then
    return {'duplicate', newest}
  end
  return {'mismatch', newest}
end
local floor = tonumber(redis.call('GET', tag .. ':producer-floor:' .. ARGV[2]) or '0')
if sequence <= floor then
  return {'duplicate', newest}
end
if sequence < tonumber(newest) then
  return {'out_of_order', newest}
end
return {'new', newest}
