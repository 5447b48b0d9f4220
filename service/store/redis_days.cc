// RedisStore's two forms of a day: open days are dense arrays (cheap to add to), closed days
// sparse hashes (cheap to keep); a dense array whose day has closed is moved into the hash.
// And retention: a month of day hashes folded into one month hash. See redis_keys.h for the
// keys and redis_store.h for the invariants.
#include <hiredis/hiredis.h>

#include <set>

#include "absl/container/btree_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/period.h"
#include "store/redis_replies.h"
#include "store/redis_store.h"

namespace hubstats {

bool RedisStore::IsOpen(Day day) const {
  return day.number() > Day::FromTime(absl::Now()).number() - dense_days_;
}

absl::StatusOr<std::vector<Day>> RedisStore::ClosedDenseDays(uint32_t shard) {
  std::vector<ShardCommands> read = OneShard(shard, {{"SMEMBERS", Keys(shard).dense_days()}});
  if (absl::Status status = Pipeline(read); !status.ok()) return status;
  absl::StatusOr<std::vector<Day>> dense = ReplyDays(read[0].replies[0].get(), "SMEMBERS dense");
  if (!dense.ok()) return dense.status();
  std::vector<Day> closed;
  for (Day day : *dense) {
    if (!IsOpen(day)) closed.push_back(day);
  }
  return closed;
}

absl::Status RedisStore::CompactDay(uint32_t shard, Day day) {
  const redis_keys::ShardKeys keys = Keys(shard);
  const std::string dense = keys.dense_day(day), sparse = keys.day(day);
  const std::string dense_days = keys.dense_days(), day_text = day.ToString();
  for (int attempt = 0; attempt < kTransactionAttempts; ++attempt) {
    if (attempt > 0) StepAside(attempt);
    bool refused = false;
    // Safe to repeat: once the array is gone there is nothing left to move.
    absl::Status status = topology_->Run(
        SlotOf(shard), Idempotence::kIdempotent, [&](RedisConnection& connection) -> absl::Status {
          refused = false;
          connection.Append({"WATCH", dense});
          connection.Append({"GET", dense});
          absl::StatusOr<std::vector<RedisReply>> read = ReadReplies(connection, 2);
          if (!read.ok()) return ClearWatch(connection, read.status());
          absl::StatusOr<std::optional<absl::string_view>> array =
              ReplyText((*read)[1].get(), "GET dense day");
          if (!array.ok()) return ClearWatch(connection, array.status());
          const absl::string_view bytes = array->value_or("");
          // Writers may have added to the hash too (a replica whose clock had closed the day):
          // moving adds to it, never replaces.
          size_t queued = 2;
          connection.Append({"MULTI"});
          for (uint32_t index = 0; index < bytes.size() / redis_keys::kDenseBytes; ++index) {
            const int64_t downloads = redis_keys::DenseAt(bytes, index);
            if (downloads == 0) continue;
            connection.Append({"HINCRBY", sparse, absl::StrCat(index), absl::StrCat(downloads)});
            ++queued;
          }
          connection.Append({"DEL", dense});
          connection.Append({"SREM", dense_days, day_text});
          connection.Append({"EXEC"});
          absl::StatusOr<std::vector<RedisReply>> replies = ReadReplies(connection, queued + 2);
          if (!replies.ok()) return replies.status();
          for (const RedisReply& reply : *replies) {
            if (absl::Status checked = CheckReply(reply.get(), "compact"); !checked.ok()) {
              return checked;
            }
          }
          refused = replies->back().is_nil();  // A window wrote the array meanwhile.
          return absl::OkStatus();
        });
    if (!status.ok()) return status;
    if (!refused) return absl::OkStatus();
  }
  return absl::UnavailableError(
      absl::StrCat("redis: compacting ", day_text, " of shard ", shard, " kept colliding"));
}

absl::Status RedisStore::CompactClosedDays() {
  for (uint32_t shard = 0; shard < shard_count_; ++shard) {
    absl::StatusOr<std::vector<Day>> closed = ClosedDenseDays(shard);
    if (!closed.ok()) return closed.status();
    for (Day day : *closed) {
      if (absl::Status status = CompactDay(shard, day); !status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Day>> RedisStore::FoldMonth(uint32_t shard, Day before) {
  if (shard >= shard_count_) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard ", shard, " is not below ", shard_count_));
  }
  if (PeriodStart(before, Granularity::kMonth) != before) {
    return absl::InvalidArgumentError(
        absl::StrCat("fold: ", before.ToString(), " is not the first day of a month"));
  }
  const redis_keys::ShardKeys keys = Keys(shard);
  for (int attempt = 0; attempt < kTransactionAttempts; ++attempt) {
    if (attempt > 0) StepAside(attempt);
    // Which month: the oldest with a day before `before`.
    std::vector<ShardCommands> listed =
        OneShard(shard, {{"SMEMBERS", keys.days()}, {"SMEMBERS", keys.dense_days()}});
    if (absl::Status status = Pipeline(listed); !status.ok()) return status;
    absl::StatusOr<std::vector<Day>> listed_days =
        ReplyDays(listed[0].replies[0].get(), "fold: SMEMBERS days");
    if (!listed_days.ok()) return listed_days.status();
    absl::StatusOr<std::vector<Day>> listed_dense =
        ReplyDays(listed[0].replies[1].get(), "fold: SMEMBERS dense");
    if (!listed_dense.ok()) return listed_dense.status();
    const std::set<Day> days(listed_days->begin(), listed_days->end());
    const std::set<Day> dense(listed_dense->begin(), listed_dense->end());
    if (days.empty() || *days.begin() >= before) return std::nullopt;
    const Day month = PeriodStart(*days.begin(), Granularity::kMonth);
    const Day end = PeriodEnd(month, Granularity::kMonth);
    std::vector<Day> month_days(days.begin(), days.upper_bound(end));
    // The script folds hashes only: a dense array of the month (a replica's clock that far
    // behind, or a compaction that failed) is compacted first.
    for (Day day : month_days) {
      if (!dense.contains(day)) continue;
      if (absl::Status status = CompactDay(shard, day); !status.ok()) return status;
    }
    // The models with downloads on those days: their revisions hashes are the script's keys.
    std::vector<std::vector<std::string>> hkeys;
    for (Day day : month_days) hkeys.push_back({"HKEYS", keys.day(day)});
    std::vector<ShardCommands> fields = OneShard(shard, std::move(hkeys));
    if (absl::Status status = Pipeline(fields); !status.ok()) return status;
    absl::btree_set<uint32_t> indexes;
    for (const RedisReply& reply : fields[0].replies) {
      absl::StatusOr<std::vector<const redisReply*>> items = ReplyArray(reply.get(), "fold: HKEYS");
      if (!items.ok()) return items.status();
      for (const redisReply* item : *items) {
        absl::StatusOr<std::optional<absl::string_view>> text = ReplyText(item, "fold: index");
        if (!text.ok()) return text.status();
        uint32_t index = 0;
        if (!absl::SimpleAtoi(text->value_or(""), &index)) {
          return CorruptReply(absl::StrCat("day field '", text->value_or(""), "'"));
        }
        indexes.insert(index);
      }
    }
    ChangeRecord record;
    record.folded_months.push_back(month);
    std::vector<std::string> script_keys = {keys.days(),       keys.dense_days(), keys.months(),
                                            keys.month(month), keys.log(),        keys.version()};
    std::vector<std::string> args = {redis_keys::MonthText(month), EncodeChangeRecord(record),
                                     absl::StrCat(absl::ToInt64Milliseconds(retention_)),
                                     absl::StrCat(month_days.size())};
    for (Day day : month_days) {
      script_keys.push_back(keys.day(day));
      args.push_back(day.ToString());
    }
    for (uint32_t index : indexes) {
      script_keys.push_back(keys.revisions(index));
      args.push_back(absl::StrCat(index));
    }
    // Safe to send again after a lost reply: the days it folded are gone, so it says "stale".
    absl::StatusOr<std::optional<Version>> folded = RunLoggedScript(
        shard, EvalSha(Script::kFoldMonth, script_keys, std::move(args)), "fold_month");
    if (!folded.ok()) return folded.status();
    if (folded->has_value()) return month;
  }
  return absl::UnavailableError(
      absl::StrCat("redis: folding shard ", shard, " kept colliding with new downloads; retry"));
}

}  // namespace hubstats
