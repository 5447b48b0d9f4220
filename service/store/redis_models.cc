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
    if (attempt > 0) StepAside(attempt);
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
      if (attempt > 0) StepAside(attempt);
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

}  // namespace hubstats
