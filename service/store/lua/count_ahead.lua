-- How many models of one shard rank before a model with a given score over a range.
--
-- ARGV: tag, first, last, all_time, score (negative downloads), model id.
-- Sorted sets order equal scores by member, so inserting the model (when absent) and asking
-- its rank counts exactly the members with more downloads or equal downloads and a smaller
-- id; the insert is undone before the script returns.

local all_time, first, last, score, id = ARGV[4] == '1', ARGV[2], ARGV[3], ARGV[5], ARGV[6]
local key = ranked_set(all_time, first, last, 'models')
if not key then
  return 0
end
local added = redis.call('ZADD', key, 'NX', score, id)
local rank = redis.call('ZRANK', key, id)
if added == 1 then
  redis.call('ZREM', key, id)
end
return rank
