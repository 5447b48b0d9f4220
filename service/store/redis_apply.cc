// RedisStore's write path: model indexes and catalog records (write_models.lua), and commit
// windows (one WATCH / MULTI / EXEC per shard). See redis_store.h for what each step makes
// atomic.
#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/event.h"
#include "core/model_id.h"
#include "store/redis_replies.h"
#include "store/redis_store.h"

namespace hubstats {
namespace {

// Another writer got there first (a mark moved, a model was indexed): step aside a little, at
// random, so two replicas do not keep colliding.
void Backoff(int attempt) {
  thread_local std::minstd_rand random(std::random_device{}());
  absl::SleepFor(absl::Microseconds(50 + random() % (200 * std::min(attempt, 10))));
}

// Reads `commands` replies after sending them; a redirect or failure ends the read early only
// once every reply is in, so the connection stays in step.
absl::StatusOr<std::vector<RedisReply>> ReadReplies(RedisConnection& connection, size_t count) {
  std::vector<RedisReply> replies;
  replies.reserve(count);
  absl::Status routing;
  for (size_t i = 0; i < count; ++i) {
    absl::StatusOr<RedisReply> reply = connection.GetReply();
    if (!reply.ok()) return reply.status();
    if (absl::Status status = RoutingStatus(*reply); !status.ok() && routing.ok()) routing = status;
    replies.push_back(*std::move(reply));
  }
  if (!routing.ok()) return routing;
  return replies;
}

// The models hash as one read saw it: values of some ids, and the hash's length.
struct ModelsRead {
  std::vector<std::optional<std::string>> values;
  int64_t length = 0;
};

}  // namespace

absl::StatusOr<std::optional<Version>> RedisStore::WriteModels(
    uint32_t shard, int64_t expected_length, const ChangeRecord& record,
    const std::vector<ModelWrite>& writes) {
  const redis_keys::ShardKeys keys = Keys(shard);
  std::vector<std::string> args = {
      absl::StrCat(absl::ToInt64Milliseconds(retention_)), absl::StrCat(expected_length),
      record.indexed.empty() && record.records.empty() ? std::string()
                                                       : EncodeChangeRecord(record)};
  args.reserve(3 + 3 * writes.size());
  for (const ModelWrite& write : writes) {
    args.insert(args.end(), {write.model_id, write.expected, write.value});
  }
  const std::vector<std::vector<std::string>> commands = {
      EvalSha(Script::kWriteModels, {keys.models(), keys.log(), keys.version()}, std::move(args))};
  std::optional<Version> version;
  // Safe to send again after a lost reply: the script finds its own writes and says "stale",
  // and the caller reads again.
  absl::Status status = topology_->Run(
      SlotOf(shard), Idempotence::kIdempotent, [&](RedisConnection& connection) -> absl::Status {
        std::vector<RedisReply> replies;
        if (absl::Status sent = SendAndRead(connection, commands, replies); !sent.ok()) {
          return sent;
        }
        absl::StatusOr<std::vector<const redisReply*>> items =
            ReplyArray(replies[0].get(), "write_models");
        if (!items.ok()) return items.status();
        absl::StatusOr<std::optional<absl::string_view>> verdict =
            items->empty() ? CorruptReply("write_models: empty reply")
                           : ReplyText((*items)[0], "write_models");
        if (!verdict.ok()) return verdict.status();
        if (*verdict == "stale") {
          version.reset();
          return absl::OkStatus();
        }
        if (*verdict != "ok" || items->size() != 2) return CorruptReply("write_models verdict");
        absl::StatusOr<Version> written = ReplyVersion((*items)[1], "write_models version");
        if (!written.ok()) return written.status();
        version = *written;
        return WaitForReplicas(connection);
      });
  if (!status.ok()) return status;
  return version;
}

absl::StatusOr<std::vector<uint32_t>> RedisStore::AssignIndexes(
    uint32_t shard, absl::Span<const std::string> model_ids) {
  if (shard >= shard_count_) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard ", shard, " is not below ", shard_count_));
  }
  // Each id once; the answer maps back.
  std::vector<std::string> distinct;
  absl::flat_hash_map<absl::string_view, size_t> position;
  for (const std::string& id : model_ids) {
    if (position.try_emplace(id, distinct.size()).second) distinct.push_back(id);
  }
  const redis_keys::ShardKeys keys = Keys(shard);
  std::vector<std::string> hmget = {"HMGET", keys.models()};
  hmget.insert(hmget.end(), distinct.begin(), distinct.end());
  for (int attempt = 0; attempt < kTransactionAttempts; ++attempt) {
    if (attempt > 0) Backoff(attempt);
    std::vector<ShardCommands> read = OneShard(shard, {hmget, {"HLEN", keys.models()}});
    if (absl::Status status = Pipeline(read); !status.ok()) return status;
    absl::StatusOr<std::vector<const redisReply*>> values =
        ReplyArray(read[0].replies[0].get(), "HMGET models", distinct.size());
    if (!values.ok()) return values.status();
    absl::StatusOr<int64_t> length = ReplyInteger(read[0].replies[1].get(), "HLEN models");
    if (!length.ok()) return length.status();
    std::vector<uint32_t> indexes(distinct.size());
    ChangeRecord record;
    std::vector<ModelWrite> writes;
    for (size_t i = 0; i < distinct.size(); ++i) {
      absl::StatusOr<std::optional<absl::string_view>> value = ReplyText((*values)[i], "models");
      if (!value.ok()) return value.status();
      if (*value) {
        std::optional<redis_keys::ParsedModelValue> parsed = redis_keys::ParseModelValue(**value);
        if (!parsed) return CorruptReply(absl::StrCat("models value of '", distinct[i], "'"));
        indexes[i] = parsed->index;
        continue;
      }
      indexes[i] = static_cast<uint32_t>(*length + static_cast<int64_t>(writes.size()));
      record.indexed.push_back({indexes[i], distinct[i]});
      writes.push_back({distinct[i], "", redis_keys::ModelValue(indexes[i], std::nullopt)});
    }
    if (!writes.empty()) {
      absl::StatusOr<std::optional<Version>> written = WriteModels(shard, *length, record, writes);
      if (!written.ok()) return written.status();
      if (!*written) continue;  // Someone else indexed models of this shard meanwhile.
    }
    std::vector<uint32_t> answer;
    answer.reserve(model_ids.size());
    for (const std::string& id : model_ids) answer.push_back(indexes[position[id]]);
    return answer;
  }
  return absl::UnavailableError(absl::StrCat("redis: indexing models of shard ", shard,
                                             " kept colliding with other writers; retry"));
}

absl::StatusOr<UpsertResult> RedisStore::UpsertModels(absl::Span<const CatalogRecord> records) {
  std::map<uint32_t, std::vector<size_t>> by_shard;
  for (size_t i = 0; i < records.size(); ++i) {
    by_shard[ShardOf(AuthorOf(records[i].model_id), shard_count_)].push_back(i);
  }
  UpsertResult result;
  result.previous.resize(records.size());
  for (const auto& [shard, members] : by_shard) {
    const redis_keys::ShardKeys keys = Keys(shard);
    std::vector<std::string> hmget = {"HMGET", keys.models()};
    for (size_t i : members) hmget.push_back(records[i].model_id);
    bool written = false;
    for (int attempt = 0; attempt < kTransactionAttempts && !written; ++attempt) {
      if (attempt > 0) Backoff(attempt);
      std::vector<ShardCommands> read = OneShard(shard, {hmget, {"HLEN", keys.models()}});
      if (absl::Status status = Pipeline(read); !status.ok()) return status;
      absl::StatusOr<std::vector<const redisReply*>> values =
          ReplyArray(read[0].replies[0].get(), "HMGET models", members.size());
      if (!values.ok()) return values.status();
      absl::StatusOr<int64_t> length = ReplyInteger(read[0].replies[1].get(), "HLEN models");
      if (!length.ok()) return length.status();
      ChangeRecord record;
      std::vector<ModelWrite> writes;
      uint32_t next_index = static_cast<uint32_t>(*length);
      for (size_t m = 0; m < members.size(); ++m) {
        const CatalogRecord& entry = records[members[m]];
        absl::StatusOr<std::optional<absl::string_view>> value = ReplyText((*values)[m], "models");
        if (!value.ok()) return value.status();
        ModelWrite& write = writes.emplace_back();
        write.model_id = entry.model_id;
        uint32_t index = 0;
        std::optional<CatalogRecord>& previous = result.previous[members[m]];
        previous.reset();
        if (*value) {
          std::optional<redis_keys::ParsedModelValue> parsed = redis_keys::ParseModelValue(**value);
          if (!parsed) return CorruptReply(absl::StrCat("models value of '", entry.model_id, "'"));
          index = parsed->index;
          write.expected = std::string(**value);
          if (parsed->serialized_record) {
            absl::StatusOr<CatalogRecord> old =
                ParseRecord(entry.model_id, *parsed->serialized_record);
            if (!old.ok()) return old.status();
            previous = *std::move(old);
          }
        } else {
          index = next_index++;
          record.indexed.push_back({index, entry.model_id});
        }
        const std::string serialized = SerializeRecord(entry);
        write.value = redis_keys::ModelValue(index, serialized);
        record.records.push_back({index, entry});
      }
      // The length matters only when new indexes are handed out.
      const int64_t expected_length = record.indexed.empty() ? -1 : *length;
      absl::StatusOr<std::optional<Version>> version =
          WriteModels(shard, expected_length, record, writes);
      if (!version.ok()) return version.status();
      if (*version) {
        result.version.shards.emplace_back(shard, **version);
        written = true;
      }
    }
    if (!written) {
      return absl::UnavailableError(absl::StrCat("redis: writing catalog records of shard ", shard,
                                                 " kept colliding with other writers; retry"));
    }
  }
  return result;
}

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

}  // namespace

absl::StatusOr<WindowShardResult> RedisStore::ApplyShard(const WindowShard& window) {
  const ShardDelta& delta = window.delta;
  const redis_keys::ShardKeys keys = Keys(delta.shard);
  const ShardPlan plan = PlanShard(window, keys);
  const std::string log_change_source = script_sources_[static_cast<int>(Script::kLogChange)];
  const std::string retention_ms = absl::StrCat(absl::ToInt64Milliseconds(retention_));
  WindowShardResult result;

  // One attempt: read under WATCH, decide, write in MULTI/EXEC. `refused` when EXEC was.
  auto attempt = [&](RedisConnection& connection, bool& refused) -> absl::Status {
    refused = false;
    result = WindowShardResult();
    // The reads the decision rests on: the marks (watched: another replica may apply the same
    // batch), the authors' totals (for the limit) and the version (the answer when nothing is
    // written).
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
    ++reads;
    absl::StatusOr<std::vector<RedisReply>> read = ReadReplies(connection, reads);
    // Leaves the connection without a WATCH, for its next user.
    auto unwatch = [&](absl::Status status) -> absl::Status {
      if (plan.marks.empty() || connection.broken()) return status;
      absl::StatusOr<RedisReply> unwatched = connection.Command({"UNWATCH"});
      // A WATCH left behind would make a later user's EXEC fail: such a connection goes.
      if (!unwatched.ok() || unwatched->is_error()) connection.Discard();
      return unwatched.ok() ? status : unwatched.status();
    };
    if (!read.ok()) return unwatch(read.status());
    size_t next = 0;
    if (!plan.marks.empty()) {
      if (absl::Status watched = CheckReply((*read)[next++].get(), "WATCH"); !watched.ok()) {
        return unwatch(watched);
      }
      absl::StatusOr<std::vector<const redisReply*>> marks =
          ReplyArray((*read)[next++].get(), "MGET marks", plan.marks.size());
      if (!marks.ok()) return unwatch(marks.status());
      for (size_t m = 0; m < plan.marks.size(); ++m) {
        absl::StatusOr<int64_t> applied = ReplyInteger((*marks)[m], "mark");
        if (!applied.ok()) return unwatch(applied.status());
        for (const Contribution& contribution : window.contributions) {
          if (contribution.producer_id == plan.marks[m].first &&
              contribution.sequence <= static_cast<uint64_t>(*applied)) {
            result.conflicts.push_back(contribution);
          }
        }
      }
    }
    absl::flat_hash_set<absl::string_view> overflowing;
    if (!plan.author_totals.empty()) {
      absl::StatusOr<std::vector<const redisReply*>> totals =
          ReplyArray((*read)[next++].get(), "HMGET authors", plan.author_totals.size());
      if (!totals.ok()) return unwatch(totals.status());
      for (size_t a = 0; a < plan.author_totals.size(); ++a) {
        absl::StatusOr<int64_t> current = ReplyInteger((*totals)[a], "author total");
        if (!current.ok()) return unwatch(current.status());
        if (plan.author_totals[a].second > kMaxCounterValue - *current) {
          overflowing.insert(plan.author_totals[a].first);
        }
      }
    }
    absl::StatusOr<Version> version = ReplyVersion((*read)[next++].get(), "GET version");
    if (!version.ok()) return unwatch(version.status());
    result.version = *version;
    if (!result.conflicts.empty()) {
      // Nothing is written; `version` holds what those contributions applied (their marks
      // were set in the same transaction as their log entry).
      if (absl::Status status = unwatch(absl::OkStatus()); !status.ok()) return status;
      return WaitForReplicas(connection);
    }
    for (const auto& [author, total] : plan.author_totals) {
      if (overflowing.contains(author)) result.overflowing_authors.emplace_back(author);
    }

    // The writes, in one MULTI/EXEC, and the record of exactly what they add. Counters of
    // dense arrays (all time, open days) go into one BITFIELD per array; closed days get one
    // HINCRBY per model.
    ChangeRecord record;
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
    connection.Append({"MULTI"});
    size_t queued = 0;
    for (const ModelDelta& model : delta.models) {
      if (overflowing.contains(model.author)) continue;
      increment(all_time_key, model.index, model.total);
      author_added[model.author] += model.total;
      const std::string index = absl::StrCat(model.index);
      for (const DayDelta& day : model.days) {
        auto [entry, inserted] = day_keys.try_emplace(day.day);
        DayKey& day_key = entry->second;
        if (inserted) {
          day_key.open = IsOpen(day.day);
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
    if (!day_keys.empty()) {
      std::vector<std::string> days;
      for (const auto& [day, key] : day_keys) days.push_back(day.ToString());
      const std::string days_key = keys.days();
      std::vector<absl::string_view> sadd = {"SADD", days_key};
      sadd.insert(sadd.end(), days.begin(), days.end());
      connection.Append(absl::MakeConstSpan(sadd));
      ++queued;
    }
    if (!dense_days.empty()) {
      const std::string dense_key = keys.dense_days();
      std::vector<absl::string_view> sadd = {"SADD", dense_key};
      sadd.insert(sadd.end(), dense_days.begin(), dense_days.end());
      connection.Append(absl::MakeConstSpan(sadd));
      ++queued;
    }
    for (const auto& [author, added] : author_added) {
      connection.Append({"HINCRBY", keys.authors(), author, absl::StrCat(added)});
      ++queued;
    }
    for (const auto& [producer, mark] : plan.marks) {
      connection.Append(
          {"SET", mark.key, absl::StrCat(mark.sequence), "EX", absl::StrCat(mark.ttl)});
      ++queued;
    }
    const bool logs = !record.downloads.empty();
    if (logs) {
      // EVAL, not EVALSHA: a script missing inside MULTI fails only at EXEC, after the other
      // commands ran. Redis caches the compiled script by its SHA1 either way.
      connection.Append({"EVAL", log_change_source, "2", keys.log(), keys.version(),
                         EncodeChangeRecord(record), retention_ms});
      ++queued;
    }
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
    if (logs) {
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
    if (tries > 0) Backoff(tries);
    bool refused = false;
    absl::Status status =
        topology_->Run(SlotOf(delta.shard), idempotence,
                       [&](RedisConnection& connection) { return attempt(connection, refused); });
    if (!status.ok()) return status;
    if (refused) continue;
    // Dense arrays of days that closed since are moved into their hashes, once per shard and
    // day. The window is applied whatever happens here: a failure is left for a later window.
    if (absl::StatusOr<std::vector<Day>> closed = ClosedDenseDays(delta.shard); closed.ok()) {
      for (Day day : *closed) {
        if (!CompactDay(delta.shard, day).ok()) break;
      }
    }
    return result;
  }
  return absl::UnavailableError(absl::StrCat("redis: shard ", delta.shard,
                                             " of the window kept conflicting with other "
                                             "writers of the same producers; retry"));
}

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
    if (attempt > 0) Backoff(attempt);
    bool refused = false;
    // Safe to repeat: once the array is gone there is nothing left to move.
    absl::Status status = topology_->Run(
        SlotOf(shard), Idempotence::kIdempotent, [&](RedisConnection& connection) -> absl::Status {
          refused = false;
          connection.Append({"WATCH", dense});
          connection.Append({"GET", dense});
          absl::StatusOr<std::vector<RedisReply>> read = ReadReplies(connection, 2);
          auto unwatch = [&](absl::Status failure) -> absl::Status {
            if (connection.broken()) return failure;
            absl::StatusOr<RedisReply> unwatched = connection.Command({"UNWATCH"});
            if (!unwatched.ok() || unwatched->is_error()) connection.Discard();
            return unwatched.ok() ? failure : unwatched.status();
          };
          if (!read.ok()) return unwatch(read.status());
          absl::StatusOr<std::optional<absl::string_view>> array =
              ReplyText((*read)[1].get(), "GET dense day");
          if (!array.ok()) return unwatch(array.status());
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
