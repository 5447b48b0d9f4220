#include "store/redis_store.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/event.h"
#include "core/model_id.h"

namespace hubstats {
namespace embedded {
extern const std::string_view common_lua, apply_events_lua, upsert_models_lua,
    read_aggregates_lua, read_top_lua, read_population_lua, read_model_lua, count_ahead_lua,
    producer_check_lua, producer_commit_lua;
}  // namespace embedded

namespace {

constexpr absl::string_view kLayoutVersion = "1";

constexpr absl::string_view kScriptNames[] = {
    "apply_events", "upsert_models", "read_aggregates", "read_top",       "read_population",
    "read_model",   "count_ahead",   "producer_check",  "producer_commit"};

std::vector<std::string> ScriptSources() {
  auto with_common = [](std::string_view script) {
    return absl::StrCat(absl::string_view(embedded::common_lua.data(), embedded::common_lua.size()),
                        "\n", absl::string_view(script.data(), script.size()));
  };
  return {with_common(embedded::apply_events_lua),   with_common(embedded::upsert_models_lua),
          with_common(embedded::read_aggregates_lua), with_common(embedded::read_top_lua),
          with_common(embedded::read_population_lua), with_common(embedded::read_model_lua),
          with_common(embedded::count_ahead_lua),     with_common(embedded::producer_check_lua),
          with_common(embedded::producer_commit_lua)};
}

// ZRANGEBYLEX bounds and the all-time flag: the first three script arguments of every read.
std::vector<std::string> RangeArgs(const DayRange& range) {
  return {range.first ? absl::StrCat("[", range.first->ToString()) : "-",
          range.last ? absl::StrCat("[", range.last->ToString()) : "+",
          range.all_time() ? "1" : "0"};
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("unexpected reply from redis: ", what));
}

// The elements of an array reply of strings and integers.
absl::StatusOr<std::vector<std::string>> ReplyStrings(const RedisReply& reply) {
  const redisReply* raw = reply.get();
  if (raw == nullptr || raw->type != REDIS_REPLY_ARRAY) return Corrupt("expected an array");
  std::vector<std::string> items;
  items.reserve(raw->elements);
  for (size_t i = 0; i < raw->elements; ++i) {
    const redisReply* element = raw->element[i];
    switch (element->type) {
      case REDIS_REPLY_STRING:
      case REDIS_REPLY_STATUS:
        items.emplace_back(element->str, element->len);
        break;
      case REDIS_REPLY_INTEGER:
        items.push_back(absl::StrCat(element->integer));
        break;
      case REDIS_REPLY_NIL:
        items.emplace_back();
        break;
      default:
        return Corrupt("unexpected array element type");
    }
  }
  return items;
}

absl::StatusOr<int64_t> ReplyInteger(const RedisReply& reply) {
  const redisReply* raw = reply.get();
  if (raw == nullptr || raw->type != REDIS_REPLY_INTEGER) return Corrupt("expected an integer");
  return static_cast<int64_t>(raw->integer);
}

absl::StatusOr<int64_t> ParseCount(absl::string_view text) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) return Corrupt(absl::StrCat("'", text, "' is not a count"));
  return value;
}

// Sorted-set scores are doubles printed exactly for integers up to 2^53; rankings hold
// negative downloads.
absl::StatusOr<int64_t> ParseNegativeScore(absl::string_view text) {
  double score = 0;
  if (!absl::SimpleAtod(text, &score) || score != std::floor(score) ||
      std::fabs(score) > static_cast<double>(kMaxCounterValue)) {
    return Corrupt(absl::StrCat("'", text, "' is not an exact score"));
  }
  return -static_cast<int64_t>(score);
}

absl::Status AddCounts(const std::vector<std::string>& values, size_t begin, size_t end,
                       int64_t& sum) {
  for (size_t i = begin; i < end; ++i) {
    absl::StatusOr<int64_t> value = ParseCount(values[i]);
    if (!value.ok()) return value.status();
    sum += *value;
  }
  return absl::OkStatus();
}

}  // namespace

RedisStore::RedisStore(const RedisStoreOptions& options, RedisEndpoint endpoint)
    : prefix_(options.key_prefix),
      pool_(std::move(endpoint), options.pool_size, options.connect_timeout,
            options.command_timeout),
      script_sources_(ScriptSources()),
      unknown_class_(ModelClass::Unknown().Encode()) {}

absl::StatusOr<std::unique_ptr<RedisStore>> RedisStore::Open(const RedisStoreOptions& options) {
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(options.url);
  if (!endpoint.ok()) return endpoint.status();
  if (options.key_prefix.empty() || options.key_prefix.find_first_of("{} ") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "redis key prefix '", options.key_prefix, "' must be non-empty without '{', '}' or spaces"));
  }
  if (options.shard_count && (*options.shard_count < 1 || *options.shard_count > kMaxShardCount)) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard count must be 1..", kMaxShardCount, ", got ", *options.shard_count));
  }
  if (options.pool_size < 1) return absl::InvalidArgumentError("redis pool size must be >= 1");
  std::unique_ptr<RedisStore> store(new RedisStore(options, *std::move(endpoint)));
  absl::StatusOr<RedisPool::Lease> lease = store->pool_.Acquire();
  if (!lease.ok()) return lease.status();
  if (absl::Status loaded = store->LoadScripts(**lease); !loaded.ok()) return loaded;
  if (absl::Status meta = store->InitializeMeta(options.shard_count); !meta.ok()) return meta;
  return store;
}

std::string RedisStore::ShardTag(uint32_t shard) const {
  return absl::StrCat(prefix_, ":{", shard, "}");
}

absl::Status RedisStore::LoadScripts(RedisConnection& connection) {
  std::vector<std::string> shas;
  for (size_t i = 0; i < script_sources_.size(); ++i) {
    absl::StatusOr<RedisReply> reply = connection.Command({"SCRIPT", "LOAD", script_sources_[i]});
    if (!reply.ok()) return reply.status();
    const redisReply* raw = reply->get();
    if (reply->is_error() || raw->type != REDIS_REPLY_STRING) {
      return absl::InternalError(
          absl::StrCat("loading script ", kScriptNames[i], " failed: ", reply->error()));
    }
    shas.emplace_back(raw->str, raw->len);
  }
  std::lock_guard lock(script_mutex_);
  script_shas_ = std::move(shas);
  return absl::OkStatus();
}

absl::Status RedisStore::InitializeMeta(std::optional<uint32_t> requested_shards) {
  absl::StatusOr<RedisPool::Lease> lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  const std::string meta = absl::StrCat(prefix_, ":meta");
  // HSETNX: the first process to start on a prefix decides; everyone else reads its choice.
  for (const auto& [field, value] :
       {std::pair<std::string, std::string>{"layout", std::string(kLayoutVersion)},
        {"shards", absl::StrCat(requested_shards.value_or(kDefaultShardCount))}}) {
    absl::StatusOr<RedisReply> reply = (*lease)->Command({"HSETNX", meta, field, value});
    if (!reply.ok()) return reply.status();
    if (reply->is_error()) {
      return absl::UnavailableError(absl::StrCat("writing ", meta, " failed: ", reply->error()));
    }
  }
  absl::StatusOr<RedisReply> reply = (*lease)->Command({"HMGET", meta, "layout", "shards"});
  if (!reply.ok()) return reply.status();
  absl::StatusOr<std::vector<std::string>> values = ReplyStrings(*reply);
  if (!values.ok() || values->size() != 2) return Corrupt(absl::StrCat("HMGET ", meta));
  if ((*values)[0] != kLayoutVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "keys under prefix '", prefix_, "' use layout version ", (*values)[0],
        "; this server writes version ", kLayoutVersion, ". Use another --redis-prefix."));
  }
  uint32_t recorded = 0;
  if (!absl::SimpleAtoi((*values)[1], &recorded) || recorded < 1 || recorded > kMaxShardCount) {
    return Corrupt(absl::StrCat(meta, " shards = '", (*values)[1], "'"));
  }
  if (requested_shards && *requested_shards != recorded) {
    return absl::FailedPreconditionError(absl::StrCat(
        "prefix '", prefix_, "' was created with ", recorded, " shards; --shards ",
        *requested_shards, " cannot change it (leave the flag out to use ", recorded, ")"));
  }
  shard_count_ = recorded;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RedisReply>> RedisStore::Run(const std::vector<ShardCall>& calls) {
  std::vector<RedisReply> replies(calls.size());
  std::vector<size_t> pending(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) pending[i] = i;
  absl::Status status;
  for (int connection = 0; connection < 2 && !pending.empty(); ++connection) {
    status = RunOnConnection(calls, pending, replies);
    if (status.ok() || !(absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status))) break;
    const bool safe = std::all_of(pending.begin(), pending.end(),
                                  [&](size_t index) { return calls[index].idempotent; });
    if (!safe) break;
    pool_.DropIdle();
  }
  if (!status.ok()) return status;
  return replies;
}

absl::Status RedisStore::RunOnConnection(const std::vector<ShardCall>& calls,
                                         std::vector<size_t>& pending,
                                         std::vector<RedisReply>& replies) {
  if (pending.empty()) return absl::OkStatus();
  absl::StatusOr<RedisPool::Lease> lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  for (int attempt = 0; attempt < 2 && !pending.empty(); ++attempt) {
    std::vector<std::string> shas;
    {
      std::lock_guard lock(script_mutex_);
      shas = script_shas_;
    }
    for (size_t index : pending) {
      const ShardCall& call = calls[index];
      const std::string tag = ShardTag(call.shard);
      std::vector<std::string> command = {"EVALSHA", shas[static_cast<int>(call.script)], "1",
                                          absl::StrCat(tag, ":days"), tag};
      command.insert(command.end(), call.args.begin(), call.args.end());
      (*lease)->Append(command);
    }
    // Read every reply, even after an error reply, to keep the pipeline in step.
    std::vector<size_t> unanswered;
    absl::Status failure;
    for (size_t index : pending) {
      if (!failure.ok()) {
        unanswered.push_back(index);
        continue;
      }
      absl::StatusOr<RedisReply> reply = (*lease)->GetReply();
      if (!reply.ok()) {
        // The connection is gone: this call and the ones after it may or may not have run.
        failure = reply.status();
        unanswered.push_back(index);
        continue;
      }
      if (reply->is_error() && absl::StartsWith(reply->error(), "NOSCRIPT")) {
        // Not run at all (Redis restarted or flushed its scripts): safe to send again.
        unanswered.push_back(index);
        continue;
      }
      if (reply->is_error()) {
        return absl::InternalError(absl::StrCat("redis script ",
                                                kScriptNames[static_cast<int>(calls[index].script)],
                                                " failed: ", reply->error()));
      }
      replies[index] = *std::move(reply);
    }
    pending = std::move(unanswered);
    if (!failure.ok()) return failure;
    if (!pending.empty()) {
      if (absl::Status loaded = LoadScripts(**lease); !loaded.ok()) return loaded;
    }
  }
  if (!pending.empty()) return absl::UnavailableError("redis keeps losing the hubstats scripts");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RedisReply>> RedisStore::RunOnAllShards(
    Script script, const std::vector<std::string>& args) {
  std::vector<ShardCall> calls(shard_count_);
  for (uint32_t shard = 0; shard < shard_count_; ++shard) {
    calls[shard] = {shard, script, args};
  }
  return Run(calls);
}

absl::StatusOr<ApplyResult> RedisStore::ApplyEvents(absl::Span<const ShardDelta> shards,
                                                    const BatchIdentity* identity) {
  std::vector<ShardCall> calls;
  for (const ShardDelta& shard : shards) {
    ShardCall call{shard.shard,
                   Script::kApplyEvents,
                   {unknown_class_, absl::StrCat(kMaxCounterValue),
                    identity ? identity->producer_id : "",
                    identity ? absl::StrCat(identity->sequence) : "0",
                    absl::StrCat(identity && !identity->from_client ? kStreamMarkTtlSeconds
                                                                     : kProducerTtlSeconds),
                    absl::StrCat(shard.models.size())},
                   /*idempotent=*/identity != nullptr};
    std::vector<std::string>& args = call.args;
    for (const ModelDelta& model : shard.models) {
      args.insert(args.end(), {model.model_id, model.author, absl::StrCat(model.total),
                               absl::StrCat(model.days.size())});
      for (const DayDelta& day : model.days) {
        args.insert(args.end(), {day.day.ToString(), absl::StrCat(day.count),
                                 absl::StrCat(day.revisions.size())});
        for (const auto& [revision, count] : day.revisions) {
          args.insert(args.end(), {revision, absl::StrCat(count)});
        }
      }
    }
    calls.push_back(std::move(call));
  }
  absl::StatusOr<std::vector<RedisReply>> replies = Run(calls);
  if (!replies.ok()) return replies.status();
  ApplyResult result;
  for (const RedisReply& reply : *replies) {
    absl::StatusOr<std::vector<std::string>> items = ReplyStrings(reply);
    if (!items.ok()) return items.status();
    if (items->empty()) return Corrupt("apply_events: empty reply");
    if ((*items)[0] == "skipped") {
      ++result.shards_skipped;
      continue;
    }
    for (size_t i = 1; i < items->size(); ++i) {
      result.overflowing_authors.push_back(std::move((*items)[i]));
    }
  }
  return result;
}

absl::StatusOr<ProducerVerdict> RedisStore::CheckProducer(const BatchIdentity& identity) {
  absl::StatusOr<std::vector<RedisReply>> replies =
      Run({ShardCall{ShardOf(identity.producer_id, shard_count_), Script::kProducerCheck,
                     {identity.producer_id, absl::StrCat(identity.sequence),
                      absl::StrCat(identity.digest)}}});
  if (!replies.ok()) return replies.status();
  absl::StatusOr<std::vector<std::string>> items = ReplyStrings((*replies)[0]);
  if (!items.ok()) return items.status();
  ProducerVerdict verdict;
  if (items->size() != 2 || !absl::SimpleAtoi((*items)[1], &verdict.newest_committed)) {
    return Corrupt("producer_check reply");
  }
  const std::string& check = (*items)[0];
  if (check == "new") {
    verdict.check = ProducerCheck::kNew;
  } else if (check == "duplicate") {
    verdict.check = ProducerCheck::kDuplicate;
  } else if (check == "out_of_order") {
    verdict.check = ProducerCheck::kOutOfOrder;
  } else if (check == "mismatch") {
    verdict.check = ProducerCheck::kContentMismatch;
  } else {
    return Corrupt(absl::StrCat("producer_check verdict '", check, "'"));
  }
  return verdict;
}

absl::Status RedisStore::CommitProducer(const BatchIdentity& identity) {
  return Run({ShardCall{ShardOf(identity.producer_id, shard_count_), Script::kProducerCommit,
                        {identity.producer_id, absl::StrCat(identity.sequence),
                         absl::StrCat(identity.digest), absl::StrCat(kProducerWindow),
                         absl::StrCat(kProducerTtlSeconds)}}})
      .status();
}

absl::Status RedisStore::Ping() {
  absl::StatusOr<RedisPool::Lease> lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  absl::StatusOr<RedisReply> reply = (*lease)->Command({"PING"});
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return absl::UnavailableError(absl::StrCat("PING: ", reply->error()));
  return absl::OkStatus();
}

absl::StatusOr<UpsertResult> RedisStore::UpsertModels(absl::Span<const CatalogEntry> entries) {
  std::map<uint32_t, ShardCall> by_shard;
  for (const CatalogEntry& entry : entries) {
    const absl::string_view author = AuthorOf(entry.record.model_id);
    const uint32_t shard = ShardOf(author, shard_count_);
    ShardCall& call = by_shard[shard];
    if (call.args.empty()) call = {shard, Script::kUpsertModels, {unknown_class_, ""}};
    call.args.insert(call.args.end(), {entry.record.model_id, std::string(author),
                                       entry.model_class.Encode(), SerializeRecord(entry.record)});
  }
  std::vector<ShardCall> calls;
  for (auto& [shard, call] : by_shard) {
    call.args[1] = absl::StrCat((call.args.size() - 2) / 4);
    calls.push_back(std::move(call));
  }
  absl::StatusOr<std::vector<RedisReply>> replies = Run(calls);
  if (!replies.ok()) return replies.status();
  UpsertResult result;
  for (const RedisReply& reply : *replies) {
    absl::StatusOr<int64_t> reclassified = ReplyInteger(reply);
    if (!reclassified.ok()) return reclassified.status();
    result.reclassified += *reclassified;
  }
  return result;
}

absl::StatusOr<AggregateCounts> RedisStore::ReadAggregates(const DayRange& range) {
  absl::StatusOr<std::vector<RedisReply>> replies =
      RunOnAllShards(Script::kReadAggregates, RangeArgs(range));
  if (!replies.ok()) return replies.status();
  AggregateCounts counts;
  for (const RedisReply& reply : *replies) {
    absl::StatusOr<std::vector<std::string>> items = ReplyStrings(reply);
    if (!items.ok()) return items.status();
    if (items->size() % 2 != 0) return Corrupt("read_aggregates: odd reply");
    for (size_t i = 0; i < items->size(); i += 2) {
      absl::StatusOr<int64_t> value = ParseCount((*items)[i + 1]);
      if (!value.ok()) return value.status();
      counts[(*items)[i]] += *value;
    }
  }
  return counts;
}

absl::StatusOr<TopCandidates> RedisStore::ReadTop(const DayRange& range, RankBy by,
                                                  std::optional<Modality> modality, int n) {
  std::vector<std::string> args = RangeArgs(range);
  std::string suffix = by == RankBy::kModel ? "models" : "authors";
  std::string total_prefix = "s|";
  if (modality) {
    absl::StrAppend(&suffix, ":", ModalityName(*modality));
    absl::StrAppend(&total_prefix, ModalityName(*modality), "|");
  }
  args.insert(args.end(), {suffix, absl::StrCat(n), total_prefix});
  absl::StatusOr<std::vector<RedisReply>> replies = RunOnAllShards(Script::kReadTop, args);
  if (!replies.ok()) return replies.status();
  TopCandidates top;
  for (const RedisReply& reply : *replies) {
    absl::StatusOr<std::vector<std::string>> items = ReplyStrings(reply);
    if (!items.ok()) return items.status();
    size_t value_count = 0;
    if (items->empty() || !absl::SimpleAtoi((*items)[0], &value_count) ||
        items->size() < 1 + value_count || (items->size() - 1 - value_count) % 2 != 0) {
      return Corrupt("read_top: malformed reply");
    }
    if (absl::Status added = AddCounts(*items, 1, 1 + value_count, top.total_downloads);
        !added.ok()) {
      return added;
    }
    for (size_t i = 1 + value_count; i < items->size(); i += 2) {
      absl::StatusOr<int64_t> downloads = ParseNegativeScore((*items)[i + 1]);
      if (!downloads.ok()) return downloads.status();
      top.entries.push_back({std::move((*items)[i]), *downloads});
    }
  }
  // Each shard sent its own top n in the global order, and every model and author lives in
  // exactly one shard, so the global top n is among them.
  KeepTop(top.entries, static_cast<size_t>(n));
  return top;
}

absl::StatusOr<Population> RedisStore::ReadPopulation(const DayRange& range) {
  absl::StatusOr<std::vector<RedisReply>> replies =
      RunOnAllShards(Script::kReadPopulation, RangeArgs(range));
  if (!replies.ok()) return replies.status();
  Population population;
  for (const RedisReply& reply : *replies) {
    absl::StatusOr<std::vector<std::string>> items = ReplyStrings(reply);
    if (!items.ok()) return items.status();
    if (items->size() < 5) return Corrupt("read_population: short reply");
    for (int i = 0; i < 2; ++i) {
      if ((*items)[i].empty()) continue;
      absl::StatusOr<Day> day = Day::Parse((*items)[i]);
      if (!day.ok()) return Corrupt(absl::StrCat("day '", (*items)[i], "'"));
      std::optional<Day>& bound = i == 0 ? population.first_day : population.last_day;
      if (!bound || (i == 0 ? *day < *bound : *day > *bound)) bound = *day;
    }
    absl::Status status = AddCounts(*items, 2, 3, population.catalogued_models);
    if (status.ok()) status = AddCounts(*items, 3, 4, population.models_with_downloads);
    if (status.ok()) status = AddCounts(*items, 4, 5, population.authors_with_downloads);
    if (status.ok()) status = AddCounts(*items, 5, items->size(), population.total_downloads);
    if (!status.ok()) return status;
  }
  return population;
}

absl::StatusOr<ModelData> RedisStore::ReadModel(absl::string_view model_id,
                                                const DayRange& range) {
  const std::string id(model_id);
  const uint32_t shard = ShardOf(AuthorOf(model_id), shard_count_);
  absl::StatusOr<std::vector<RedisReply>> replies =
      Run({ShardCall{shard, Script::kReadModel, {id}}});
  if (!replies.ok()) return replies.status();
  absl::StatusOr<std::vector<std::string>> items = ReplyStrings((*replies)[0]);
  if (!items.ok()) return items.status();
  if (items->size() < 3 || (items->size() - 3) % 2 != 0) return Corrupt("read_model reply");

  ModelData data;
  data.model_class = ModelClass::Unknown();
  if (!(*items)[0].empty()) {
    absl::StatusOr<CatalogRecord> record = ParseRecord(id, (*items)[0]);
    if (!record.ok()) return record.status();
    data.record = *std::move(record);
  }
  if (!(*items)[1].empty()) {
    absl::StatusOr<ModelClass> model_class = ModelClass::Decode((*items)[1]);
    if (!model_class.ok()) return model_class.status();
    data.model_class = *std::move(model_class);
  }
  if (!(*items)[2].empty()) {
    absl::StatusOr<int64_t> all_time = ParseNegativeScore((*items)[2]);
    if (!all_time.ok()) return all_time.status();
    data.downloads_all_time = *all_time;
  }
  // Per-model hash fields: "<YYYY-MM-DD>" (downloads that day) or "<YYYY-MM-DD>|<revision>".
  constexpr size_t kDayLength = 10;
  for (size_t i = 3; i < items->size(); i += 2) {
    const std::string& field = (*items)[i];
    absl::StatusOr<Day> day = Day::Parse(absl::string_view(field).substr(0, kDayLength));
    absl::StatusOr<int64_t> downloads = ParseCount((*items)[i + 1]);
    if (!day.ok() || !downloads.ok() || (field.size() > kDayLength && field[kDayLength] != '|')) {
      return Corrupt(absl::StrCat("model hash field '", field, "'"));
    }
    if (!range.Contains(*day)) continue;
    if (field.size() == kDayLength) {
      data.days.push_back({*day, *downloads});
      data.downloads_in_range += *downloads;
    } else {
      data.revisions.push_back({*day, field.substr(kDayLength + 1), *downloads});
    }
  }
  std::sort(data.days.begin(), data.days.end(),
            [](const DayDownloads& a, const DayDownloads& b) { return a.day < b.day; });
  std::sort(data.revisions.begin(), data.revisions.end(),
            [](const RevisionDownloads& a, const RevisionDownloads& b) {
              return std::tie(a.day, a.revision) < std::tie(b.day, b.revision);
            });
  if (range.all_time()) data.downloads_in_range = data.downloads_all_time;

  auto rank = [&](const DayRange& rank_range, int64_t downloads) -> absl::StatusOr<int64_t> {
    if (downloads == 0) return 0;
    std::vector<std::string> args = RangeArgs(rank_range);
    args.insert(args.end(), {absl::StrCat(-downloads), id});
    absl::StatusOr<std::vector<RedisReply>> counts = RunOnAllShards(Script::kCountAhead, args);
    if (!counts.ok()) return counts.status();
    int64_t ahead = 0;
    for (const RedisReply& count : *counts) {
      absl::StatusOr<int64_t> value = ReplyInteger(count);
      if (!value.ok()) return value.status();
      ahead += *value;
    }
    return ahead + 1;
  };
  absl::StatusOr<int64_t> rank_all_time = rank(DayRange{}, data.downloads_all_time);
  if (!rank_all_time.ok()) return rank_all_time.status();
  data.rank_all_time = *rank_all_time;
  if (range.all_time()) {
    data.rank_in_range = data.rank_all_time;
  } else {
    absl::StatusOr<int64_t> rank_in_range = rank(range, data.downloads_in_range);
    if (!rank_in_range.ok()) return rank_in_range.status();
    data.rank_in_range = *rank_in_range;
  }
  return data;
}

absl::Status RedisStore::ForEachCatalogRecord(
    const std::function<absl::Status(const CatalogRecord&)>& visit) {
  for (uint32_t shard = 0; shard < shard_count_; ++shard) {
    const std::string key = absl::StrCat(ShardTag(shard), ":catalog");
    std::string cursor = "0";
    do {
      std::vector<CatalogRecord> page;
      {
        // The connection goes back to the pool before `visit` runs: it may use the store.
        absl::StatusOr<RedisPool::Lease> lease = pool_.Acquire();
        if (!lease.ok()) return lease.status();
        absl::StatusOr<RedisReply> reply = (*lease)->Command({"HSCAN", key, cursor, "COUNT", "1000"});
        if (!reply.ok()) return reply.status();
        const redisReply* raw = reply->get();
        if (raw->type != REDIS_REPLY_ARRAY || raw->elements != 2 ||
            raw->element[0]->type != REDIS_REPLY_STRING) {
          return Corrupt(absl::StrCat("HSCAN ", key));
        }
        cursor.assign(raw->element[0]->str, raw->element[0]->len);
        const redisReply* items = raw->element[1];
        for (size_t i = 0; i + 1 < items->elements; i += 2) {
          absl::StatusOr<CatalogRecord> record =
              ParseRecord(absl::string_view(items->element[i]->str, items->element[i]->len),
                          absl::string_view(items->element[i + 1]->str, items->element[i + 1]->len));
          if (!record.ok()) return record.status();
          page.push_back(*std::move(record));
        }
      }
      for (const CatalogRecord& record : page) {
        if (absl::Status status = visit(record); !status.ok()) return status;
      }
    } while (cursor != "0");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RedisStore::ReadSetting(absl::string_view name) {
  absl::StatusOr<RedisPool::Lease> lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  absl::StatusOr<RedisReply> reply =
      (*lease)->Command({"HGET", absl::StrCat(prefix_, ":meta"), absl::StrCat("setting:", name)});
  if (!reply.ok()) return reply.status();
  if (reply->is_nil()) return std::string();
  if (reply->get()->type != REDIS_REPLY_STRING) return Corrupt("HGET meta setting");
  return std::string(reply->get()->str, reply->get()->len);
}

absl::Status RedisStore::WriteSetting(absl::string_view name, absl::string_view value) {
  absl::StatusOr<RedisPool::Lease> lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  absl::StatusOr<RedisReply> reply =
      (*lease)->Command({"HSET", absl::StrCat(prefix_, ":meta"), absl::StrCat("setting:", name),
                         std::string(value)});
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return absl::UnavailableError(reply->error());
  return absl::OkStatus();
}

}  // namespace hubstats
