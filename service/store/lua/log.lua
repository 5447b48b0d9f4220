-- The one way a change is logged, shared by every script that writes a shard (prepended to
-- them; see redis_store.h for the log and the versions).
--
-- Appends `record` (an encoded ChangeRecord) to the shard's log stream with the previous
-- entry's id, so a reader can tell a continuous log from one that lost entries; trims entries
-- older than `retention_ms` before this one (approximately: whole stream nodes); records the
-- new id as the shard's version. Returns the id. Keys must be declared by the caller's script.
local function log_change(log_key, version_key, record, retention_ms)
  local previous = redis.call('GET', version_key) or '0-0'
  local id = redis.call('XADD', log_key, '*', 'p', previous, 'r', record)
  local ms = tonumber(string.match(id, '^(%d+)-'))
  if ms > retention_ms then
    redis.call('XTRIM', log_key, 'MINID', '~', string.format('%d', ms - retention_ms))
  end
  redis.call('SET', version_key, id)
  return id
end
