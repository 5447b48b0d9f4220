// RedisStore's two forms of a day: open days are dense arrays (cheap to add to), closed days
// sparse hashes (cheap to keep); a dense array whose day has closed is moved into the hash. See
// redis_keys.h for the keys and redis_store.h for the invariants.
#include <hiredis/hiredis.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "store/redis_replies.h"
#include "store/redis_store.h"

namespace hubstats {

bool RedisStore::IsOpen(Day day) const {
  return day.number() > Day::FromTime(absl::Now()).number() - dense_days_;
}

absl::StatusOr<std::vector<Day>> RedisStore::ClosedDenseDays(uint32_t shard) {
  std::vector<ShardCommands> read = OneShard(shard, {{"SMEMBERS", Keys(shard).dense_days()}});
  if (absl::Status status = Pipeline(read); !status.ok()) return status;
  absl::StatusOr<std::vector<const redisReply*>> members =
      ReplyArray(read[0].replies[0].get(), "SMEMBERS dense");
  if (!members.ok()) return members.status();
  std::vector<Day> closed;
  for (const redisReply* member : *members) {
    absl::StatusOr<std::optional<absl::string_view>> text = ReplyText(member, "dense day");
    if (!text.ok()) return text.status();
    absl::StatusOr<Day> day = Day::Parse(text->value_or(""));
    if (!day.ok()) return CorruptReply(absl::StrCat("dense day '", text->value_or(""), "'"));
    if (!IsOpen(*day)) closed.push_back(*day);
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

}  // namespace hubstats
