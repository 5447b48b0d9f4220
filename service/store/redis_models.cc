// RedisStore's model indexes and catalog records: read the models hash, decide indexes and
// encode the change record here, then write_models.lua writes and logs them if nothing it was
// told to expect has changed (see redis_store.h, "What is atomic").
#include <hiredis/hiredis.h>

#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/model_id.h"
#include "store/redis_replies.h"
#include "store/redis_store.h"

namespace hubstats {

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
  // Safe to send again after a lost reply: the script finds its own writes and says "stale",
  // and the caller reads again.
  return RunLoggedScript(
      shard,
      EvalSha(Script::kWriteModels, {keys.models(), keys.log(), keys.version()}, std::move(args)),
      "write_models");
}

absl::StatusOr<RedisStore::ModelsRead> RedisStore::ReadModels(
    uint32_t shard, absl::Span<const std::string> model_ids) {
  const redis_keys::ShardKeys keys = Keys(shard);
  std::vector<std::string> hmget = {"HMGET", keys.models()};
  hmget.insert(hmget.end(), model_ids.begin(), model_ids.end());
  std::vector<ShardCommands> read = OneShard(shard, {std::move(hmget), {"HLEN", keys.models()}});
  if (absl::Status status = Pipeline(read); !status.ok()) return status;
  absl::StatusOr<std::vector<const redisReply*>> values =
      ReplyArray(read[0].replies[0].get(), "HMGET models", model_ids.size());
  if (!values.ok()) return values.status();
  absl::StatusOr<int64_t> length = ReplyInteger(read[0].replies[1].get(), "HLEN models");
  if (!length.ok()) return length.status();
  ModelsRead models;
  models.length = *length;
  for (size_t i = 0; i < model_ids.size(); ++i) {
    absl::StatusOr<std::optional<absl::string_view>> value = ReplyText((*values)[i], "models");
    if (!value.ok()) return value.status();
    ModelsRead::Stored& stored = models.stored.emplace_back();
    if (!*value) continue;
    std::optional<redis_keys::ParsedModelValue> parsed = redis_keys::ParseModelValue(**value);
    if (!parsed) return CorruptReply(absl::StrCat("models value of '", model_ids[i], "'"));
    stored.value = std::string(**value);
    stored.index = parsed->index;
    if (parsed->serialized_record) {
      absl::StatusOr<CatalogRecord> record = ParseRecord(model_ids[i], *parsed->serialized_record);
      if (!record.ok()) return record.status();
      stored.record = *std::move(record);
    }
  }
  return models;
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
  for (int attempt = 0; attempt < kTransactionAttempts; ++attempt) {
    if (attempt > 0) StepAside(attempt);
    absl::StatusOr<ModelsRead> models = ReadModels(shard, distinct);
    if (!models.ok()) return models.status();
    std::vector<uint32_t> indexes(distinct.size());
    ChangeRecord record;
    std::vector<ModelWrite> writes;
    for (size_t i = 0; i < distinct.size(); ++i) {
      if (models->stored[i].value) {
        indexes[i] = models->stored[i].index;
        continue;
      }
      indexes[i] = static_cast<uint32_t>(models->length + static_cast<int64_t>(writes.size()));
      record.indexed.push_back({indexes[i], distinct[i]});
      writes.push_back({distinct[i], "", redis_keys::ModelValue(indexes[i], std::nullopt)});
    }
    if (!writes.empty()) {
      absl::StatusOr<std::optional<Version>> written =
          WriteModels(shard, models->length, record, writes);
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
    std::vector<std::string> ids;
    for (size_t i : members) ids.push_back(records[i].model_id);
    std::optional<Version> version;
    for (int attempt = 0; attempt < kTransactionAttempts && !version; ++attempt) {
      if (attempt > 0) StepAside(attempt);
      absl::StatusOr<ModelsRead> models = ReadModels(shard, ids);
      if (!models.ok()) return models.status();
      ChangeRecord record;
      std::vector<ModelWrite> writes;
      uint32_t next_index = static_cast<uint32_t>(models->length);
      for (size_t m = 0; m < members.size(); ++m) {
        const CatalogRecord& entry = records[members[m]];
        const ModelsRead::Stored& stored = models->stored[m];
        const uint32_t index = stored.value ? stored.index : next_index++;
        if (!stored.value) record.indexed.push_back({index, entry.model_id});
        record.records.push_back({index, entry});
        writes.push_back({entry.model_id, stored.value.value_or(""),
                          redis_keys::ModelValue(index, SerializeRecord(entry))});
        result.previous[members[m]] = stored.record;
      }
      // The length matters only when new indexes are handed out.
      absl::StatusOr<std::optional<Version>> written =
          WriteModels(shard, record.indexed.empty() ? -1 : models->length, record, writes);
      if (!written.ok()) return written.status();
      version = *written;
    }
    if (!version) {
      return absl::UnavailableError(absl::StrCat("redis: writing catalog records of shard ", shard,
                                                 " kept colliding with other writers; retry"));
    }
    result.version.shards.emplace_back(shard, *version);
  }
  return result;
}

}  // namespace hubstats
