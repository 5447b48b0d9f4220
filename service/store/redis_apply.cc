// RedisStore's commit windows: each shard of a window in one WATCH / MULTI / EXEC, in four
// lanes. A shard goes through plan (once), then per attempt: read (under WATCH), decide, queue
// the writes, execute. See redis_store.h, "What is atomic".
#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "core/event.h"
#include "store/redis_replies.h"
#include "store/redis_store.h"

namespace hubstats {

absl::StatusOr<std::vector<WindowShardResult>> RedisStore::ApplyWindow(
    absl::Span<const WindowShard> shards) {
  for (const WindowShard& shard : shards) {
    if (shard.delta.shard >= shard_count_) {
      return absl::InvalidArgumentError(
          absl::StrCat("shard ", shard.delta.shard, " is not below ", shard_count_));
    }
  }
  std::vector<WindowShardResult> results(shards.size());
  // Shards are independent: a few lanes apply them side by side, so the server builds one
  // shard's transaction while Redis executes another's.
  const size_t lanes = std::min<size_t>(shards.size(), kApplyLanes);
  std::vector<absl::Status> lane_status(lanes);
  std::atomic<size_t> next{0};
  auto lane = [&](size_t index) {
    for (size_t shard = next++; shard < shards.size(); shard = next++) {
      absl::StatusOr<WindowShardResult> result = ApplyShard(shards[shard]);
      if (!result.ok()) {
        lane_status[index] = result.status();
        next = shards.size();  // Stop the other lanes: the window fails anyway.
        return;
      }
      results[shard] = *std::move(result);
    }
  };
  std::vector<std::thread> helpers;
  for (size_t i = 1; i < lanes; ++i) helpers.emplace_back(lane, i);
  if (lanes > 0) lane(0);
  for (std::thread& helper : helpers) helper.join();
  for (const absl::Status& status : lane_status) {
    if (!status.ok()) return status;
  }
  return results;
}

namespace {

// What a shard's transaction needs, worked out once before it is tried.
struct ShardPlan {
  struct Mark {
    std::string key;
    uint64_t sequence = 0;
    int64_t ttl = 0;
  };
  std::vector<std::pair<std::string, Mark>> marks;                   // By producer.
  std::vector<std::pair<absl::string_view, int64_t>> author_totals;  // The window's, per author.
};

ShardPlan PlanShard(const WindowShard& window, const redis_keys::ShardKeys& keys) {
  ShardPlan plan;
  // Each producer's highest sequence here becomes its mark.
  std::map<std::string, ShardPlan::Mark> marks;
  for (const Contribution& contribution : window.contributions) {
    ShardPlan::Mark& mark = marks[contribution.producer_id];
    if (mark.key.empty()) mark.key = keys.applied(contribution.producer_id);
    mark.sequence = std::max(mark.sequence, contribution.sequence);
    mark.ttl =
        std::max(mark.ttl, contribution.from_client ? kProducerTtlSeconds : kStreamMarkTtlSeconds);
  }
  plan.marks.assign(marks.begin(), marks.end());
  absl::flat_hash_map<absl::string_view, int64_t> totals;
  for (const ModelDelta& model : window.delta.models) totals[model.author] += model.total;
  plan.author_totals.assign(totals.begin(), totals.end());
  return plan;
}

// What the decision rests on, read in one pipeline: the producers' marks (under WATCH: another
// replica may apply the same batch), the authors' totals (for the limit), the version (the
// answer when nothing is written) and the shard's dense days (to compact the closed ones).
struct ShardState {
  std::vector<uint64_t> marks;  // As plan.marks.
  std::vector<int64_t> author_totals;
  Version version;
  std::vector<Day> dense_days;
};

absl::StatusOr<ShardState> ReadState(RedisConnection& connection, const ShardPlan& plan,
                                     const redis_keys::ShardKeys& keys) {
  size_t reads = 0;
  if (!plan.marks.empty()) {
    std::vector<absl::string_view> watch = {"WATCH"}, mget = {"MGET"};
    for (const auto& [producer, mark] : plan.marks) {
      watch.push_back(mark.key);
      mget.push_back(mark.key);
    }
    connection.Append(absl::MakeConstSpan(watch));
    connection.Append(absl::MakeConstSpan(mget));
    reads += 2;
  }
  const std::string authors_key = keys.authors();
  std::vector<absl::string_view> hmget = {"HMGET", authors_key};
  for (const auto& [author, total] : plan.author_totals) hmget.push_back(author);
  if (!plan.author_totals.empty()) {
    connection.Append(absl::MakeConstSpan(hmget));
    ++reads;
  }
  connection.Append({"GET", keys.version()});
  connection.Append({"SMEMBERS", keys.dense_days()});
  reads += 2;
  absl::StatusOr<std::vector<RedisReply>> read = ReadReplies(connection, reads);
  if (!read.ok()) return read.status();
  ShardState state;
  size_t next = 0;
  if (!plan.marks.empty()) {
    if (absl::Status watched = CheckReply((*read)[next++].get(), "WATCH"); !watched.ok()) {
      return watched;
    }
    absl::StatusOr<std::vector<const redisReply*>> marks =
        ReplyArray((*read)[next++].get(), "MGET marks", plan.marks.size());
    if (!marks.ok()) return marks.status();
    for (const redisReply* mark : *marks) {
      absl::StatusOr<int64_t> applied = ReplyInteger(mark, "mark");
      if (!applied.ok()) return applied.status();
      state.marks.push_back(static_cast<uint64_t>(*applied));
    }
  }
  if (!plan.author_totals.empty()) {
    absl::StatusOr<std::vector<const redisReply*>> totals =
        ReplyArray((*read)[next++].get(), "HMGET authors", plan.author_totals.size());
    if (!totals.ok()) return totals.status();
    for (const redisReply* total : *totals) {
      absl::StatusOr<int64_t> current = ReplyInteger(total, "author total");
      if (!current.ok()) return current.status();
      state.author_totals.push_back(*current);
    }
  }
  absl::StatusOr<Version> version = ReplyVersion((*read)[next++].get(), "GET version");
  if (!version.ok()) return version.status();
  state.version = *version;
  absl::StatusOr<std::vector<Day>> dense = ReplyDays((*read)[next++].get(), "SMEMBERS dense");
  if (!dense.ok()) return dense.status();
  state.dense_days = *std::move(dense);
  return state;
}

// The contributions already applied here (their mark is at or past their sequence), and the
// authors whose all-time total would pass kMaxCounterValue.
struct ShardDecision {
  std::vector<Contribution> conflicts;
  absl::flat_hash_set<absl::string_view> overflowing;
};

ShardDecision Decide(const WindowShard& window, const ShardPlan& plan, const ShardState& state) {
  ShardDecision decision;
  for (size_t m = 0; m < plan.marks.size(); ++m) {
    for (const Contribution& contribution : window.contributions) {
      if (contribution.producer_id == plan.marks[m].first &&
          contribution.sequence <= state.marks[m]) {
        decision.conflicts.push_back(contribution);
      }
    }
  }
  for (size_t a = 0; a < plan.author_totals.size(); ++a) {
    if (plan.author_totals[a].second > kMaxCounterValue - state.author_totals[a]) {
      decision.overflowing.insert(plan.author_totals[a].first);
    }
  }
  return decision;
}

// What QueueWrites needs of the store.
struct WriteContext {
  const redis_keys::ShardKeys& keys;
  absl::FunctionRef<bool(Day)> is_open;  // Whether a day is written dense.
  absl::string_view log_change_source;
  std::string retention_ms;
};

// Queues (after MULTI) the writes of `delta` without the overflowing authors, the marks, and
// the change record of exactly those writes (filled into `record`); returns how many commands
// were queued.
size_t QueueWrites(RedisConnection& connection, const ShardDelta& delta, const ShardPlan& plan,
                   const absl::flat_hash_set<absl::string_view>& overflowing,
                   const WriteContext& context, ChangeRecord& record) {
  const redis_keys::ShardKeys& keys = context.keys;
  // Counters of dense arrays (all time, open days) go into one BITFIELD per array; closed days
  // get one HINCRBY per model.
  std::map<std::string, std::vector<std::string>> bitfields;  // Array key -> BITFIELD args.
  auto increment = [&](const std::string& key, uint32_t index, int64_t count) {
    std::vector<std::string>& args = bitfields[key];
    args.insert(args.end(), {"INCRBY", std::string(redis_keys::kDenseType),
                             redis_keys::DenseOffset(index), absl::StrCat(count)});
  };
  const std::string all_time_key = keys.all_time();
  // Per day: its key, sparse or dense as the day is closed or open, decided once per window
  // (the clock may pass midnight while the window is built).
  struct DayKey {
    std::string key;
    bool open = false;
  };
  std::map<Day, DayKey> day_keys;
  std::vector<std::string> dense_days;
  absl::flat_hash_map<absl::string_view, int64_t> author_added;
  size_t queued = 0;
  for (const ModelDelta& model : delta.models) {
    if (overflowing.contains(model.author)) continue;
    increment(all_time_key, model.index, model.total);
    author_added[model.author] += model.total;
    if (model.all_time_only != 0) {
      record.all_time_only.push_back({model.index, model.all_time_only});
    }
    const std::string index = absl::StrCat(model.index);
    for (const DayDelta& day : model.days) {
      auto [entry, inserted] = day_keys.try_emplace(day.day);
      DayKey& day_key = entry->second;
      if (inserted) {
        day_key.open = context.is_open(day.day);
        day_key.key = day_key.open ? keys.dense_day(day.day) : keys.day(day.day);
        if (day_key.open) dense_days.push_back(day.day.ToString());
      }
      if (day_key.open) {
        increment(day_key.key, model.index, day.count);
      } else {
        connection.Append({"HINCRBY", day_key.key, index, absl::StrCat(day.count)});
        ++queued;
      }
      record.downloads.push_back({model.index, day.day, day.count});
      for (const auto& [revision, count] : day.revisions) {
        connection.Append({"HINCRBY", keys.revisions(model.index),
                           redis_keys::RevisionField(day.day, revision), absl::StrCat(count)});
        ++queued;
      }
    }
  }
  for (const auto& [key, args] : bitfields) {
    std::vector<absl::string_view> command = {"BITFIELD", key};
    command.insert(command.end(), args.begin(), args.end());
    connection.Append(absl::MakeConstSpan(command));
    ++queued;
  }
  auto add_members = [&](const std::string& key, const std::vector<std::string>& members) {
    if (members.empty()) return;
    std::vector<absl::string_view> sadd = {"SADD", key};
    sadd.insert(sadd.end(), members.begin(), members.end());
    connection.Append(absl::MakeConstSpan(sadd));
    ++queued;
  };
  std::vector<std::string> days;
  for (const auto& [day, key] : day_keys) days.push_back(day.ToString());
  add_members(keys.days(), days);
  add_members(keys.dense_days(), dense_days);
  const std::string authors_key = keys.authors();
  for (const auto& [author, added] : author_added) {
    connection.Append({"HINCRBY", authors_key, author, absl::StrCat(added)});
    ++queued;
  }
  for (const auto& [producer, mark] : plan.marks) {
    connection.Append({"SET", mark.key, absl::StrCat(mark.sequence), "EX", absl::StrCat(mark.ttl)});
    ++queued;
  }
  if (!record.empty()) {
    // EVAL, not EVALSHA: a script missing inside MULTI fails only at EXEC, after the other
    // commands ran. Redis caches the compiled script by its SHA1 either way.
    connection.Append({"EVAL", context.log_change_source, "2", keys.log(), keys.version(),
                       EncodeChangeRecord(record), context.retention_ms});
    ++queued;
  }
  return queued;
}

}  // namespace

absl::StatusOr<WindowShardResult> RedisStore::ApplyShard(const WindowShard& window) {
  const ShardDelta& delta = window.delta;
  const redis_keys::ShardKeys keys = Keys(delta.shard);
  const ShardPlan plan = PlanShard(window, keys);
  // A named lambda: the context's FunctionRef must not outlive what it refers to.
  const auto is_open = [this](Day day) { return IsOpen(day); };
  const WriteContext context{keys, is_open, script_sources_[static_cast<int>(Script::kLogChange)],
                             absl::StrCat(absl::ToInt64Milliseconds(retention_))};
  WindowShardResult result;
  std::vector<Day> dense_days;

  // One attempt: read under WATCH, decide, write in MULTI/EXEC. `refused` when EXEC was.
  auto attempt = [&](RedisConnection& connection, bool& refused) -> absl::Status {
    refused = false;
    result = WindowShardResult();
    absl::StatusOr<ShardState> state = ReadState(connection, plan, keys);
    if (!state.ok()) {
      return plan.marks.empty() ? state.status() : ClearWatch(connection, state.status());
    }
    result.version = state->version;
    dense_days = state->dense_days;
    ShardDecision decision = Decide(window, plan, *state);
    if (!decision.conflicts.empty()) {
      // Nothing is written; `version` holds what those contributions applied (their marks
      // were set in the same transaction as their log entry).
      result.conflicts = std::move(decision.conflicts);
      if (!plan.marks.empty()) {
        if (absl::Status cleared = ClearWatch(connection, absl::OkStatus()); !cleared.ok()) {
          return cleared;
        }
      }
      return WaitForReplicas(connection);
    }
    for (const auto& [author, total] : plan.author_totals) {
      if (decision.overflowing.contains(author)) result.overflowing_authors.emplace_back(author);
    }

    ChangeRecord record;
    connection.Append({"MULTI"});
    const size_t queued =
        QueueWrites(connection, delta, plan, decision.overflowing, context, record);
    connection.Append({"EXEC"});
    // MULTI's OK, one QUEUED per command, then EXEC's answer; all read before any is judged.
    absl::StatusOr<std::vector<RedisReply>> replies = ReadReplies(connection, queued + 2);
    if (!replies.ok()) return replies.status();  // A redirect: EXEC aborted, nothing written.
    for (size_t r = 0; r + 1 < replies->size(); ++r) {
      if (absl::Status status = CheckReply((*replies)[r].get(), "apply: queuing"); !status.ok()) {
        return status;  // EXEC then refused the whole transaction.
      }
    }
    const RedisReply& executed = replies->back();
    if (absl::Status status = CheckReply(executed.get(), "apply: EXEC"); !status.ok()) {
      return status;
    }
    if (executed.is_nil()) {  // A watched mark moved: decide again.
      refused = true;
      return absl::OkStatus();
    }
    absl::StatusOr<std::vector<const redisReply*>> results =
        ReplyArray(executed.get(), "apply: EXEC", queued);
    if (!results.ok()) return results.status();
    for (const redisReply* reply : *results) {
      // A command that failed inside EXEC (only a key of the wrong type can) did not stop the
      // others: the shard's data is not what this store wrote.
      if (absl::Status status = CheckReply(reply, "apply: EXEC command"); !status.ok()) {
        return absl::DataLossError(status.message());
      }
    }
    if (!record.empty()) {
      absl::StatusOr<Version> logged = ReplyVersion(results->back(), "apply: log entry");
      if (!logged.ok()) return logged.status();
      result.version = *logged;
    }
    return WaitForReplicas(connection);
  };

  // With marks, a transaction whose reply was lost may be sent again: its marks make the
  // second one report conflicts instead of counting twice. Without, it may not.
  const Idempotence idempotence =
      window.contributions.empty() ? Idempotence::kNotIdempotent : Idempotence::kIdempotent;
  for (int tries = 0; tries < kTransactionAttempts; ++tries) {
    if (tries > 0) StepAside(tries);
    bool refused = false;
    absl::Status status =
        topology_->Run(SlotOf(delta.shard), idempotence,
                       [&](RedisConnection& connection) { return attempt(connection, refused); });
    if (!status.ok()) return status;
    if (refused) continue;
    // Dense arrays of days that have closed are moved into their hashes, once per shard and
    // day. The window is applied whatever happens here: a failure is left for a later window.
    for (Day day : dense_days) {
      if (!IsOpen(day) && !CompactDay(delta.shard, day).ok()) break;
    }
    return result;
  }
  return absl::UnavailableError(absl::StrCat("redis: shard ", delta.shard,
                                             " of the window kept conflicting with other "
                                             "writers of the same producers; retry"));
}

}  // namespace hubstats
