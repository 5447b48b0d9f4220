-- Where a client batch stands for its producer. Runs on the producer's home shard.
--
-- KEYS: the producer's log (sorted set of committed batches, member "<sequence>:<digest>",
-- score the sequence; the newest ones), its floor (the highest sequence trimmed from the log).
-- ARGV: sequence, digest.
-- Returns {verdict, newest committed sequence}: "new", "duplicate" (committed with the same
-- digest, or older than what is kept), "out_of_order" (below the newest, never committed),
-- "mismatch" (committed with another digest).
local sequence = tonumber(ARGV[1])
local newest = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2] or '0'
local same = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])
if #same > 0 then
  if same[1] == ARGV[1] .. ':' .. ARGV[2] then
    return {'duplicate', newest}
  end
  return {'mismatch', newest}
end
local floor = tonumber(redis.call('GET', KEYS[2]) or '0')
if sequence <= floor then
  return {'duplicate', newest}
end
if sequence < tonumber(newest) then
  return {'out_of_order', newest}
end
return {'new', newest}
