-- Aggregate counters of one shard over a range.
--
-- ARGV: tag, first, last (ZRANGEBYLEX bounds), all_time ("1" or "0").
-- Returns {field, value, field, value, ...}; a field may repeat, and the caller sums the values
-- in 64-bit integers.

return range_aggregates(ARGV[4] == '1', ARGV[2], ARGV[3])
