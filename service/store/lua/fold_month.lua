-- Folds one month of a shard's per-day detail into monthly totals (RedisStore::FoldMonth) and
-- logs it, all in one step. The caller read the month's days and their models first; if
-- anything it read changed since (a late event added a day or a model, a day is still dense),
-- nothing is written and the answer is {'stale'}: the caller reads again.
--
-- KEYS: days, dense, months, the month's hash, log, version, then the hash of each day of the
--       month (in ARGV's order), then the revisions hash of each model with downloads on them.
-- ARGV: the month "YYYY-MM", the change record, the log retention (ms), the number of days,
--       the days "YYYY-MM-DD", then the index of each revisions hash (in KEYS' order).
-- Returns {'ok', version} or {'stale'}.
local month, record, retention_ms, day_count =
  ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local day_prefix = month .. '-'
local listed = {}
for d = 1, day_count do listed[ARGV[4 + d]] = true end
local found = 0
for _, day in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if string.sub(day, 1, 8) == day_prefix then
    if not listed[day] then return {'stale'} end
    found = found + 1
  end
end
if found ~= day_count or day_count == 0 then return {'stale'} end
local revision_key = {}
for r = 1, #KEYS - 6 - day_count do revision_key[ARGV[4 + day_count + r]] = KEYS[6 + day_count + r] end

-- Sum each model's downloads over the days (counts stay below 2^53: exact in a Lua number).
local totals, order = {}, {}
for d = 1, day_count do
  if redis.call('SISMEMBER', KEYS[2], ARGV[4 + d]) == 1 then return {'stale'} end
  local fields = redis.call('HGETALL', KEYS[6 + d])
  for i = 1, #fields, 2 do
    local index = fields[i]
    if revision_key[index] == nil then return {'stale'} end
    if totals[index] == nil then
      totals[index] = 0
      order[#order + 1] = index
    end
    totals[index] = totals[index] + tonumber(fields[i + 1])
  end
end

-- Everything checked: nothing below returns early.
for d = 1, day_count do
  redis.call('DEL', KEYS[6 + d])
  redis.call('SREM', KEYS[1], ARGV[4 + d])
end
for _, index in ipairs(order) do
  redis.call('HINCRBY', KEYS[4], index, string.format('%d', totals[index]))
  -- "YYYY-MM-DD|<revision>" of this month -> "YYYY-MM|<revision>".
  local key = revision_key[index]
  local fields = redis.call('HGETALL', key)
  for i = 1, #fields, 2 do
    local field = fields[i]
    if string.sub(field, 1, 8) == day_prefix and string.sub(field, 11, 11) == '|' then
      redis.call('HINCRBY', key, month .. string.sub(field, 11), fields[i + 1])
      redis.call('HDEL', key, field)
    end
  end
end
redis.call('SADD', KEYS[3], month)
return {'ok', log_change(KEYS[5], KEYS[6], record, retention_ms)}
