-- Logs one change record: queued by a window's MULTI/EXEC after the writes it describes.
-- KEYS: log, version. ARGV: record, retention (ms). Returns the new version.
return log_change(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]))
