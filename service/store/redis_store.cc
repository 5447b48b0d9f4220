#include "store/redis_store.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/event.h"
#include "core/model_id.h"
#include "core/stats.h"

namespace hubstats {
namespace embedded {
extern const std::string_view common_lua, apply_events_lua, upsert_models_lua, read_aggregates_lua,
    read_top_lua, read_population_lua, read_model_lua, count_ahead_lua, producer_check_lua,
    producer_commit_lua;
}  // namespace embedded

namespace {

constexpr absl::string_view kLayoutVersion = "1";

constexpr absl::string_view kScriptNames[] = {"apply_events", "upsert_models",   "read_aggregates",
                                              "read_top",     "read_population", "read_model",
                                              "count_ahead",  "producer_check",  "producer_commit"};

std::vector<std::string> ScriptSources() {
  auto with_common = [](std::string_view script) {
    return absl::StrCat(absl::string_view(embedded::common_lua.data(), embedded::common_lua.size()),
                        "\n", absl::string_view(script.data(), script.size()));
  };
  return {with_common(embedded::apply_events_lua),    with_common(embedded::upsert_models_lua),
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

// The status for a Redis error reply: UNAVAILABLE for the ones that pass (Redis loading its
// data, a script running too long, a failover), so callers retry them; INTERNAL otherwise.
absl::Status ErrorReplyStatus(const RedisReply& reply, absl::string_view what) {
  const std::string error = reply.error();
  for (absl::string_view transient :
       {"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN", "READONLY"}) {
    if (absl::StartsWith(error, transient)) {
      return absl::UnavailableError(absl::StrCat(what, ": ", error));
    }
  }
  return absl::InternalError(absl::StrCat(what, ": ", error));
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("unexpected reply from redis: ", what));
}

// The elements of an array reply of strings and integers.
absl::StatusOr<std::vector<std::string>> ReplyStrings(const redisReply* raw) {
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

absl::StatusOr<std::vector<std::string>> ReplyStrings(const RedisReply& reply) {
  return ReplyStrings(reply.get());
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
      apply_with_script_(options.apply_with_script),
      query_timeout_(options.query_timeout),
      pool_(endpoint, options.pool_size, options.connect_timeout, options.command_timeout),
      query_pool_(std::move(endpoint), options.pool_size, options.connect_timeout,
                  options.query_timeout),
      script_sources_(ScriptSources()),
      unknown_class_(ModelClass::Unknown().Encode()) {}

absl::StatusOr<std::unique_ptr<RedisStore>> RedisStore::Open(const RedisStoreOptions& options) {
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(options.url);
  if (!endpoint.ok()) return endpoint.status();
  if (options.key_prefix.empty() || options.key_prefix.find_first_of("{} ") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis key prefix '", options.key_prefix,
                     "' must be non-empty without '{', '}' or spaces"));
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
    if (reply->is_error()) {
      return ErrorReplyStatus(*reply, absl::StrCat("loading script ", kScriptNames[i]));
    }
    if (raw->type != REDIS_REPLY_STRING) {
      return Corrupt(absl::StrCat("SCRIPT LOAD ", kScriptNames[i]));
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

absl::Status RedisStore::QueryFailure(const absl::Status& status) const {
  if (status.ok() || (!absl::IsDeadlineExceeded(status) && !absl::IsUnavailable(status))) {
    return status;
  }
  return absl::UnavailableError(absl::StrCat("redis did not answer the query within ",
                                             absl::FormatDuration(query_timeout_), " (",
                                             status.message(), "); retry later"));
}

bool RedisStore::RetryOnFreshConnection(const absl::Status& status, absl::Time deadline) {
  // A pooled connection that Redis closed fails at once and is worth one more try; a timeout
  // means Redis is slow or stopped, and trying again would only double the wait.
  return absl::IsUnavailable(status) && absl::Now() < deadline;
}

absl::StatusOr<std::vector<RedisReply>> RedisStore::Run(const std::vector<ShardCall>& calls,
                                                        absl::Time deadline) {
  RedisPool& pool = PoolFor(deadline);
  std::vector<RedisReply> replies(calls.size());
  std::vector<size_t> pending(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) pending[i] = i;
  absl::Status status;
  for (int connection = 0; connection < 2 && !pending.empty(); ++connection) {
    absl::StatusOr<RedisPool::Lease> lease = pool.Acquire(deadline);
    if (!lease.ok()) {
      status = lease.status();
      break;
    }
    status = RunOnConnection(**lease, calls, pending, replies);
    if (status.ok() || !RetryOnFreshConnection(status, deadline)) break;
    pool.DropIdle();
  }
  if (!status.ok()) return deadline == absl::InfiniteFuture() ? status : QueryFailure(status);
  return replies;
}

absl::Status RedisStore::RunOnConnection(RedisConnection& connection,
                                         const std::vector<ShardCall>& calls,
                                         std::vector<size_t>& pending,
                                         std::vector<RedisReply>& replies) {
  if (pending.empty()) return absl::OkStatus();
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
      connection.Append(command);
    }
    // Read every reply, even after an error reply, to keep the pipeline in step.
    std::vector<size_t> unanswered;
    absl::Status failure, refused;
    for (size_t index : pending) {
      if (!failure.ok()) {
        unanswered.push_back(index);
        continue;
      }
      absl::StatusOr<RedisReply> reply = connection.GetReply();
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
        // Keep reading: the replies after it belong to this pipeline too.
        if (refused.ok()) {
          refused = ErrorReplyStatus(
              *reply,
              absl::StrCat("redis script ", kScriptNames[static_cast<int>(calls[index].script)]));
        }
        unanswered.push_back(index);
        continue;
      }
      replies[index] = *std::move(reply);
    }
    pending = std::move(unanswered);
    if (!failure.ok()) return failure;
    if (!refused.ok()) return refused;
    if (!pending.empty()) {
      if (absl::Status loaded = LoadScripts(connection); !loaded.ok()) return loaded;
    }
  }
  if (!pending.empty()) return absl::UnavailableError("redis keeps losing the hubstats scripts");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RedisReply>> RedisStore::RunOnAllShards(
    Script script, const std::vector<std::string>& args, absl::Time deadline) {
  std::vector<ShardCall> calls(shard_count_);
  for (uint32_t shard = 0; shard < shard_count_; ++shard) {
    calls[shard] = {shard, script, args};
  }
  return Run(calls, deadline);
}

absl::StatusOr<std::vector<WindowShardResult>> RedisStore::ApplyWindow(
    absl::Span<const WindowShard> shards) {
  std::vector<WindowShardResult> results(shards.size());
  // Shards are independent: a few connections apply them side by side, so the server builds
  // one shard's transaction while Redis executes another's.
  const size_t lanes = std::min<size_t>(shards.size(), kApplyLanes);
  std::vector<absl::Status> lane_status(lanes);
  std::atomic<size_t> next{0};
  auto lane = [&](size_t index) {
    std::optional<RedisPool::Lease> lease;
    auto connect = [&]() -> absl::Status {
      lease.reset();
      absl::StatusOr<RedisPool::Lease> acquired = pool_.Acquire();
      if (!acquired.ok()) return acquired.status();
      lease.emplace(*std::move(acquired));
      return absl::OkStatus();
    };
    if (absl::Status connected = connect(); !connected.ok()) {
      lane_status[index] = connected;
      next = shards.size();
      return;
    }
    for (size_t shard = next++; shard < shards.size(); shard = next++) {
      absl::StatusOr<WindowShardResult> result = ApplyShard(**lease, shards[shard]);
      const absl::Status failure = result.status();
      // Like Run: after a connection failure, the shard is tried once more on a fresh
      // connection when that is safe (its marks refuse a second application).
      if (!result.ok() && !shards[shard].contributions.empty() && IsRetryableStoreError(failure)) {
        pool_.DropIdle();
        if (absl::Status connected = connect(); connected.ok()) {
          result = ApplyShard(**lease, shards[shard]);
        }
      }
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

// A stored class split into the names the transaction writes with.
struct ClassNames {
  std::string modality;
  std::array<std::string, 4> fields;
};

ClassNames SplitClass(absl::string_view encoded) {
  ClassNames names;
  std::vector<absl::string_view> lines = absl::StrSplit(encoded, '\n');
  if (!lines.empty()) names.modality = std::string(lines[0]);
  for (size_t i = 1; i < lines.size() && i <= 4; ++i) names.fields[i - 1] = std::string(lines[i]);
  return names;
}

// Formats integers into stable storage, so commands can take string_views of them.
class Numbers {
 public:
  absl::string_view Of(int64_t value) {
    if (block_.empty() || used_ + 24 > block_.back().size()) {
      block_.emplace_back(std::string(64 * 1024, '\0'));
      used_ = 0;
    }
    char* start = block_.back().data() + used_;
    char* end = absl::numbers_internal::FastIntToBuffer(value, start);
    used_ += static_cast<size_t>(end - start);
    return absl::string_view(start, static_cast<size_t>(end - start));
  }

 private:
  std::vector<std::string> block_;
  size_t used_ = 0;
};

bool IsNil(const redisReply* reply) { return reply == nullptr || reply->type == REDIS_REPLY_NIL; }

}  // namespace

absl::StatusOr<WindowShardResult> RedisStore::ApplyShard(RedisConnection& connection,
                                                         const WindowShard& window) {
  const ShardDelta& shard = window.delta;
  const std::string tag = ShardTag(shard.shard);
  const std::string class_key = absl::StrCat(tag, ":class");
  const std::string authors_key = absl::StrCat(tag, ":all:authors");

  // Each producer's highest sequence here becomes its mark.
  struct Mark {
    std::string key;
    uint64_t sequence = 0;
    int64_t ttl = 0;
  };
  absl::flat_hash_map<absl::string_view, Mark> marks;
  for (const Contribution& contribution : window.contributions) {
    Mark& mark = marks[contribution.producer_id];
    if (mark.key.empty()) mark.key = absl::StrCat(tag, ":applied:", contribution.producer_id);
    mark.sequence = std::max(mark.sequence, contribution.sequence);
    mark.ttl =
        std::max(mark.ttl, contribution.from_client ? kProducerTtlSeconds : kStreamMarkTtlSeconds);
  }
  absl::flat_hash_map<absl::string_view, int64_t> author_totals;
  for (const ModelDelta& model : shard.models) author_totals[model.author] += model.total;
  std::vector<absl::string_view> authors;
  authors.reserve(author_totals.size());
  for (const auto& [author, total] : author_totals) authors.push_back(author);

  const int attempts = apply_with_script_ ? 0 : kTransactionAttempts;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) {
      // Someone keeps writing the shard's watched keys: step aside a little, at random.
      absl::SleepFor(absl::Microseconds(100 + (std::random_device{}() % 1000) * attempt));
    }
    // Read what the writes depend on, under WATCH: the classes (an upsert changes them), the
    // producers' marks (another replica may apply the same batch) and the authors' totals.
    std::vector<absl::string_view> watch = {"WATCH", class_key};
    for (const auto& [producer, mark] : marks) watch.push_back(mark.key);
    connection.Append(absl::MakeConstSpan(watch));
    std::vector<absl::string_view> mget = {"MGET"};
    for (const auto& [producer, mark] : marks) mget.push_back(mark.key);
    if (!marks.empty()) connection.Append(absl::MakeConstSpan(mget));
    std::vector<absl::string_view> hmget = {"HMGET", class_key};
    for (const ModelDelta& model : shard.models) hmget.push_back(model.model_id);
    if (!shard.models.empty()) connection.Append(absl::MakeConstSpan(hmget));
    std::vector<absl::string_view> zmscore = {"ZMSCORE", authors_key};
    zmscore.insert(zmscore.end(), authors.begin(), authors.end());
    if (!authors.empty()) connection.Append(absl::MakeConstSpan(zmscore));

    // Every reply is read before any is judged, so the connection stays in step.
    RedisReply watched, mark_values, classes, totals;
    absl::Status refused;
    for (auto [wanted, target] :
         {std::pair{true, &watched}, std::pair{!marks.empty(), &mark_values},
          std::pair{!shard.models.empty(), &classes}, std::pair{!authors.empty(), &totals}}) {
      if (!wanted) continue;
      absl::StatusOr<RedisReply> reply = connection.GetReply();
      if (!reply.ok()) return reply.status();
      if (reply->is_error() && refused.ok()) refused = ErrorReplyStatus(*reply, "apply: read");
      *target = *std::move(reply);
    }
    if (!refused.ok()) {
      connection.Append({"UNWATCH"});
      absl::StatusOr<RedisReply> unwatched = connection.GetReply();
      if (!unwatched.ok()) return unwatched.status();
      return refused;
    }

    WindowShardResult result;
    size_t index = 0;
    for (const auto& [producer, mark] : marks) {
      const redisReply* value = mark_values.get()->element[index++];
      uint64_t applied = 0;
      if (!IsNil(value)) absl::SimpleAtoi(absl::string_view(value->str, value->len), &applied);
      for (const Contribution& contribution : window.contributions) {
        if (contribution.producer_id == producer && contribution.sequence <= applied) {
          result.conflicts.push_back(contribution);
        }
      }
    }
    if (!result.conflicts.empty()) {
      connection.Append({"UNWATCH"});
      absl::StatusOr<RedisReply> unwatched = connection.GetReply();
      if (!unwatched.ok()) return unwatched.status();
      return result;
    }
    absl::flat_hash_set<absl::string_view> skip;
    for (size_t a = 0; a < authors.size(); ++a) {
      const redisReply* score = totals.get()->element[a];
      double current = 0;
      if (!IsNil(score)) absl::SimpleAtod(absl::string_view(score->str, score->len), &current);
      // Scores are minus the downloads; past 2^53 counters stop being exact.
      if (static_cast<double>(author_totals[authors[a]]) - current >
          static_cast<double>(kMaxCounterValue)) {
        skip.insert(authors[a]);
        result.overflowing_authors.emplace_back(authors[a]);
      }
    }

    // The writes, in one MULTI/EXEC. Authors and aggregate counters are summed here first, so
    // each gets one write per window however many of its models moved.
    Numbers numbers;
    // Node maps: the writes below keep views and references into their values.
    absl::node_hash_map<std::string, ClassNames> class_names;
    struct ScopeKeys {
      std::string models, authors, agg;
      absl::node_hash_map<std::string, std::pair<std::string, std::string>> by_modality;
      absl::flat_hash_map<absl::string_view, int64_t> author_sums;
      absl::flat_hash_map<std::pair<absl::string_view, absl::string_view>, int64_t>
          author_modality_sums;
      absl::flat_hash_map<absl::string_view, int64_t> field_sums;
    };
    absl::node_hash_map<std::string, ScopeKeys> scopes;  // "all" or "d:<day>"
    std::vector<std::string> days;
    auto scope_keys = [&](const std::string& scope) -> ScopeKeys& {
      auto [it, inserted] = scopes.try_emplace(scope);
      if (inserted) {
        it->second.models = absl::StrCat(tag, ":", scope, ":models");
        it->second.authors = absl::StrCat(tag, ":", scope, ":authors");
        it->second.agg = absl::StrCat(tag, ":", scope, ":agg");
      }
      return it->second;
    };
    auto modality_keys = [&](ScopeKeys & keys, const std::string& modality) -> const auto& {
      auto [it, inserted] = keys.by_modality.try_emplace(modality);
      if (inserted) {
        it->second = {absl::StrCat(keys.models, ":", modality),
                      absl::StrCat(keys.authors, ":", modality)};
      }
      return it->second;
    };
    connection.Append({"MULTI"});
    size_t queued = 0;
    auto add = [&](ScopeKeys& keys, const ClassNames& names, const ModelDelta& model,
                   int64_t downloads) {
      const absl::string_view minus = numbers.Of(-downloads);
      connection.Append({"ZINCRBY", keys.models, minus, model.model_id});
      connection.Append(
          {"ZINCRBY", modality_keys(keys, names.modality).first, minus, model.model_id});
      queued += 2;
      keys.author_sums[model.author] += downloads;
      keys.author_modality_sums[{model.author, names.modality}] += downloads;
      for (const std::string& field : names.fields) keys.field_sums[field] += downloads;
    };
    ScopeKeys& all = scope_keys("all");
    for (size_t m = 0; m < shard.models.size(); ++m) {
      const ModelDelta& model = shard.models[m];
      if (skip.contains(model.author)) continue;
      // Classified under the catalog as it is now: an upsert between the read and EXEC
      // changes the watched class hash and makes EXEC fail, and then all of this is redone.
      const redisReply* stored = classes.get()->element[m];
      const std::string encoded =
          IsNil(stored) ? unknown_class_ : std::string(stored->str, stored->len);
      auto [names, fresh] = class_names.try_emplace(encoded);
      if (fresh) names->second = SplitClass(encoded);
      add(all, names->second, model, model.total);
      for (const DayDelta& day : model.days) {
        const std::string day_text = day.day.ToString();
        const std::string scope = absl::StrCat("d:", day_text);
        if (!scopes.contains(scope)) days.push_back(day_text);
        add(scope_keys(scope), names->second, model, day.count);
        for (const auto& [revision, count] : day.revisions) {
          connection.Append({"HINCRBY", absl::StrCat(tag, ":m:", model.model_id),
                             absl::StrCat(day_text, "|", revision), numbers.Of(count)});
          ++queued;
        }
      }
    }
    for (auto& [scope, keys] : scopes) {
      for (const auto& [author, downloads] : keys.author_sums) {
        connection.Append({"ZINCRBY", keys.authors, numbers.Of(-downloads), author});
        ++queued;
      }
      for (const auto& [key, downloads] : keys.author_modality_sums) {
        connection.Append({"ZINCRBY", modality_keys(keys, std::string(key.second)).second,
                           numbers.Of(-downloads), key.first});
        ++queued;
      }
      for (const auto& [field, downloads] : keys.field_sums) {
        connection.Append({"HINCRBY", keys.agg, field, numbers.Of(downloads)});
        ++queued;
      }
    }
    for (const std::string& day : days) {
      // Cached unions of ranges holding this day are stale now (see lua/common.lua).
      connection.Append({"INCR", absl::StrCat(tag, ":d:", day, ":version")});
      ++queued;
    }
    if (!days.empty()) {
      const std::string days_key = absl::StrCat(tag, ":days");
      std::vector<absl::string_view> zadd = {"ZADD", days_key};
      for (const std::string& day : days) zadd.insert(zadd.end(), {"0", day});
      connection.Append(absl::MakeConstSpan(zadd));
      ++queued;
    }
    for (const auto& [producer, mark] : marks) {
      connection.Append({"SET", mark.key, numbers.Of(static_cast<int64_t>(mark.sequence)), "EX",
                         numbers.Of(mark.ttl)});
      ++queued;
    }
    connection.Append({"EXEC"});
    // MULTI's OK, one QUEUED per command, then EXEC's answer; all read before any is judged.
    absl::Status refused_queuing;
    for (size_t r = 0; r < queued + 1; ++r) {
      absl::StatusOr<RedisReply> reply = connection.GetReply();
      if (!reply.ok()) return reply.status();
      if (reply->is_error() && refused_queuing.ok()) {
        refused_queuing = ErrorReplyStatus(*reply, "apply: queuing");
      }
    }
    absl::StatusOr<RedisReply> executed = connection.GetReply();
    if (!executed.ok()) return executed.status();
    if (!refused_queuing.ok()) return refused_queuing;  // EXEC then refused the whole batch.
    if (executed->is_error()) return ErrorReplyStatus(*executed, "apply: EXEC");
    if (!executed->is_nil()) return result;
    // EXEC refused: a watched key changed (an upsert, or another replica's mark). Again.
  }
  return ApplyShardWithScript(connection, window, author_totals);
}

absl::StatusOr<WindowShardResult> RedisStore::ApplyShardWithScript(
    RedisConnection& connection, const WindowShard& window,
    const absl::flat_hash_map<absl::string_view, int64_t>& author_totals) {
  const ShardDelta& shard = window.delta;
  ShardCall call;
  call.shard = shard.shard;
  call.script = Script::kApplyEvents;
  std::vector<std::string>& args = call.args;
  args = {unknown_class_, absl::StrCat(kMaxCounterValue),
          absl::StrCat(window.contributions.size())};
  for (const Contribution& contribution : window.contributions) {
    args.insert(args.end(), {contribution.producer_id, absl::StrCat(contribution.sequence),
                             absl::StrCat(contribution.from_client ? kProducerTtlSeconds
                                                                   : kStreamMarkTtlSeconds)});
  }
  args.push_back(absl::StrCat(author_totals.size()));
  for (const auto& [author, total] : author_totals) {
    args.insert(args.end(), {std::string(author), absl::StrCat(total)});
  }
  args.push_back(absl::StrCat(shard.models.size()));
  for (const ModelDelta& model : shard.models) {
    args.insert(args.end(), {model.model_id, model.author, absl::StrCat(model.total),
                             absl::StrCat(-model.total), absl::StrCat(model.days.size())});
    for (const DayDelta& day : model.days) {
      args.insert(args.end(), {day.day.ToString(), absl::StrCat(day.count),
                               absl::StrCat(-day.count), absl::StrCat(day.revisions.size())});
      for (const auto& [revision, count] : day.revisions) {
        args.insert(args.end(), {revision, absl::StrCat(count)});
      }
    }
  }
  std::vector<size_t> pending = {0};
  std::vector<RedisReply> replies(1);
  if (absl::Status status = RunOnConnection(connection, {call}, pending, replies); !status.ok()) {
    return status;
  }
  absl::StatusOr<std::vector<std::string>> items = ReplyStrings(replies[0]);
  if (!items.ok()) return items.status();
  if (items->empty()) return Corrupt("apply_events: empty reply");
  WindowShardResult result;
  if ((*items)[0] == "conflict") {
    for (size_t i = 1; i + 1 < items->size(); i += 2) {
      Contribution conflict;
      conflict.producer_id = (*items)[i];
      if (!absl::SimpleAtoi((*items)[i + 1], &conflict.sequence)) {
        return Corrupt("apply_events: conflict sequence");
      }
      for (const Contribution& contribution : window.contributions) {
        if (contribution.producer_id == conflict.producer_id &&
            contribution.sequence == conflict.sequence) {
          conflict.from_client = contribution.from_client;
        }
      }
      result.conflicts.push_back(std::move(conflict));
    }
    return result;
  }
  for (size_t i = 1; i < items->size(); ++i) result.overflowing_authors.push_back((*items)[i]);
  return result;
}

absl::StatusOr<std::vector<ProducerVerdict>> RedisStore::CheckProducers(
    absl::Span<const BatchIdentity> identities) {
  std::vector<ShardCall> calls;
  for (const BatchIdentity& identity : identities) {
    calls.push_back(
        {ShardOf(identity.producer_id, shard_count_),
         Script::kProducerCheck,
         {identity.producer_id, absl::StrCat(identity.sequence), absl::StrCat(identity.digest)}});
  }
  absl::StatusOr<std::vector<RedisReply>> replies = Run(calls);
  if (!replies.ok()) return replies.status();
  std::vector<ProducerVerdict> verdicts;
  for (const RedisReply& reply : *replies) {
    absl::StatusOr<std::vector<std::string>> items = ReplyStrings(reply);
    if (!items.ok()) return items.status();
    ProducerVerdict& verdict = verdicts.emplace_back();
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
  }
  return verdicts;
}

absl::Status RedisStore::CommitProducers(absl::Span<const BatchIdentity> identities) {
  std::vector<ShardCall> calls;
  for (const BatchIdentity& identity : identities) {
    calls.push_back(
        {ShardOf(identity.producer_id, shard_count_),
         Script::kProducerCommit,
         {identity.producer_id, absl::StrCat(identity.sequence), absl::StrCat(identity.digest),
          absl::StrCat(kProducerWindow), absl::StrCat(kProducerTtlSeconds)}});
  }
  return Run(calls).status();
}

absl::StatusOr<std::vector<int64_t>> RedisStore::ReadAuthorTotals(
    absl::Span<const absl::string_view> authors) {
  std::map<uint32_t, std::vector<size_t>> by_shard;
  for (size_t i = 0; i < authors.size(); ++i) {
    by_shard[ShardOf(authors[i], shard_count_)].push_back(i);
  }
  std::vector<int64_t> totals(authors.size(), 0);
  absl::Status failure;
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<RedisPool::Lease> lease = pool_.Acquire();
    if (!lease.ok()) return lease.status();
    for (const auto& [shard, members] : by_shard) {
      std::vector<absl::string_view> command = {"ZMSCORE"};
      const std::string key = absl::StrCat(ShardTag(shard), ":all:authors");
      command.push_back(key);
      for (size_t i : members) command.push_back(authors[i]);
      (*lease)->Append(absl::MakeConstSpan(command));
    }
    failure = absl::OkStatus();
    for (const auto& [shard, members] : by_shard) {
      absl::StatusOr<RedisReply> reply = (*lease)->GetReply();
      if (!reply.ok()) {
        failure = reply.status();
        break;
      }
      if (reply->is_error()) {
        if (failure.ok()) failure = ErrorReplyStatus(*reply, "reading author totals");
        continue;
      }
      const redisReply* raw = reply->get();
      if (raw->type != REDIS_REPLY_ARRAY || raw->elements != members.size()) {
        return Corrupt("ZMSCORE reply");
      }
      for (size_t k = 0; k < members.size(); ++k) {
        const redisReply* score = raw->element[k];
        if (score->type == REDIS_REPLY_NIL) continue;
        absl::StatusOr<int64_t> downloads =
            ParseNegativeScore(absl::string_view(score->str, score->len));
        if (!downloads.ok()) return downloads.status();
        totals[members[k]] = *downloads;
      }
    }
    if (failure.ok() || !absl::IsUnavailable(failure)) break;
    pool_.DropIdle();
  }
  if (!failure.ok()) return failure;
  return totals;
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

std::optional<std::string> RedisStore::SingleScope(const DayRange& range) {
  if (range.all_time()) return std::string("all");
  if (range.first && range.last && *range.first == *range.last) {
    return absl::StrCat("d:", range.first->ToString());
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<RedisReply>> RedisStore::RunTransactions(
    const std::function<std::vector<std::vector<std::string>>(const std::string& tag)>& commands,
    absl::Time deadline) {
  // Reads only, so like Run: a connection that failed (a pooled one gone stale, a dropped link)
  // is replaced and the transactions are sent once more.
  RedisPool& pool = PoolFor(deadline);
  absl::Status failure;
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<RedisPool::Lease> lease = pool.Acquire(deadline);
    if (!lease.ok()) {
      failure = lease.status();
      break;
    }
    absl::StatusOr<std::vector<RedisReply>> replies = RunTransactionsOn(**lease, commands);
    if (replies.ok() || !IsRetryableStoreError(replies.status())) return replies;
    failure = replies.status();
    if (!RetryOnFreshConnection(failure, deadline)) break;
    pool.DropIdle();
  }
  return QueryFailure(failure);
}

absl::StatusOr<std::vector<RedisReply>> RedisStore::RunTransactionsOn(
    RedisConnection& connection,
    const std::function<std::vector<std::vector<std::string>>(const std::string& tag)>& commands) {
  std::vector<size_t> counts(shard_count_);
  for (uint32_t shard = 0; shard < shard_count_; ++shard) {
    std::vector<std::vector<std::string>> shard_commands = commands(ShardTag(shard));
    counts[shard] = shard_commands.size();
    connection.Append({"MULTI"});
    for (const std::vector<std::string>& command : shard_commands) connection.Append(command);
    connection.Append({"EXEC"});
  }
  // Every reply is read before any is judged, so the connection stays in step.
  std::vector<RedisReply> results;
  results.reserve(shard_count_);
  absl::Status refused;
  for (uint32_t shard = 0; shard < shard_count_; ++shard) {
    for (size_t r = 0; r < counts[shard] + 1; ++r) {  // MULTI's OK and a QUEUED per command.
      absl::StatusOr<RedisReply> reply = connection.GetReply();
      if (!reply.ok()) return reply.status();
      if (reply->is_error() && refused.ok()) refused = ErrorReplyStatus(*reply, "read");
    }
    absl::StatusOr<RedisReply> executed = connection.GetReply();
    if (!executed.ok()) return executed.status();
    if (executed->is_error() && refused.ok()) refused = ErrorReplyStatus(*executed, "read: EXEC");
    results.push_back(*std::move(executed));
  }
  if (!refused.ok()) return refused;
  for (uint32_t shard = 0; shard < shard_count_; ++shard) {
    const redisReply* raw = results[shard].get();
    if (raw == nullptr || raw->type != REDIS_REPLY_ARRAY || raw->elements != counts[shard]) {
      return Corrupt("read: EXEC answered no array");
    }
  }
  return results;
}

namespace {

// Adds a flat {field, value, ...} reply into `counts`.
absl::Status AddAggregates(const redisReply* raw, AggregateCounts& counts) {
  absl::StatusOr<std::vector<std::string>> items = ReplyStrings(raw);
  if (!items.ok()) return items.status();
  if (items->size() % 2 != 0) return Corrupt("aggregates: odd reply");
  for (size_t i = 0; i < items->size(); i += 2) {
    absl::StatusOr<int64_t> value = ParseCount((*items)[i + 1]);
    if (!value.ok()) return value.status();
    counts[(*items)[i]] += *value;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AggregateCounts> RedisStore::ReadAggregates(const DayRange& range) {
  const absl::Time deadline = absl::Now() + query_timeout_;
  AggregateCounts counts;
  // All time or one day: one hash per shard, read with native commands (no script).
  if (std::optional<std::string> scope = SingleScope(range)) {
    absl::StatusOr<std::vector<RedisReply>> replies = RunTransactions(
        [&](const std::string& tag) {
          return std::vector<std::vector<std::string>>{
              {"HGETALL", absl::StrCat(tag, ":", *scope, ":agg")}};
        },
        deadline);
    if (!replies.ok()) return replies.status();
    for (const RedisReply& reply : *replies) {
      if (absl::Status added = AddAggregates(reply.get()->element[0], counts); !added.ok()) {
        return added;
      }
    }
    return counts;
  }
  absl::StatusOr<std::vector<RedisReply>> replies =
      RunOnAllShards(Script::kReadAggregates, RangeArgs(range), deadline);
  if (!replies.ok()) return replies.status();
  for (const RedisReply& reply : *replies) {
    if (absl::Status added = AddAggregates(reply.get(), counts); !added.ok()) return added;
  }
  return counts;
}

absl::StatusOr<TopCandidates> RedisStore::ReadTop(const DayRange& range, RankBy by,
                                                  std::optional<Modality> modality, int n) {
  const absl::Time deadline = absl::Now() + query_timeout_;
  std::vector<std::string> args = RangeArgs(range);
  std::string suffix = by == RankBy::kModel ? "models" : "authors";
  std::string total_prefix = "s|";
  if (modality) {
    absl::StrAppend(&suffix, ":", ModalityName(*modality));
    absl::StrAppend(&total_prefix, ModalityName(*modality), "|");
  }
  TopCandidates top;
  // All time or one day: the ranking and the aggregate hash per shard, natively, in one
  // MULTI/EXEC each so they agree.
  if (std::optional<std::string> scope = SingleScope(range)) {
    absl::StatusOr<std::vector<RedisReply>> replies = RunTransactions(
        [&](const std::string& tag) {
          return std::vector<std::vector<std::string>>{
              {"ZRANGE", absl::StrCat(tag, ":", *scope, ":", suffix), "0", absl::StrCat(n - 1),
               "WITHSCORES"},
              {"HGETALL", absl::StrCat(tag, ":", *scope, ":agg")}};
        },
        deadline);
    if (!replies.ok()) return replies.status();
    for (const RedisReply& reply : *replies) {
      absl::StatusOr<std::vector<std::string>> ranked = ReplyStrings(reply.get()->element[0]);
      if (!ranked.ok()) return ranked.status();
      for (size_t i = 0; i + 1 < ranked->size(); i += 2) {
        absl::StatusOr<int64_t> downloads = ParseNegativeScore((*ranked)[i + 1]);
        if (!downloads.ok()) return downloads.status();
        top.entries.push_back({std::move((*ranked)[i]), *downloads});
      }
      AggregateCounts counts;
      if (absl::Status added = AddAggregates(reply.get()->element[1], counts); !added.ok()) {
        return added;
      }
      top.total_downloads += TotalDownloads(counts, modality);
    }
    KeepTop(top.entries, static_cast<size_t>(n));
    return top;
  }
  args.insert(args.end(), {suffix, absl::StrCat(n), total_prefix});
  absl::StatusOr<std::vector<RedisReply>> replies =
      RunOnAllShards(Script::kReadTop, args, deadline);
  if (!replies.ok()) return replies.status();
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
  const absl::Time deadline = absl::Now() + query_timeout_;
  absl::StatusOr<std::vector<RedisReply>> replies =
      RunOnAllShards(Script::kReadPopulation, RangeArgs(range), deadline);
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

absl::StatusOr<ModelData> RedisStore::ReadModel(absl::string_view model_id, const DayRange& range) {
  const absl::Time deadline = absl::Now() + query_timeout_;
  const std::string id(model_id);
  const uint32_t shard = ShardOf(AuthorOf(model_id), shard_count_);
  const std::vector<std::string> range_args = RangeArgs(range);
  absl::StatusOr<std::vector<RedisReply>> replies =
      Run({ShardCall{shard, Script::kReadModel, {id, range_args[0], range_args[1]}}}, deadline);
  if (!replies.ok()) return replies.status();
  absl::StatusOr<std::vector<std::string>> items = ReplyStrings((*replies)[0]);
  if (!items.ok()) return items.status();
  size_t day_count = 0;
  if (items->size() < 4 || !absl::SimpleAtoi((*items)[3], &day_count) ||
      items->size() < 4 + 2 * day_count || (items->size() - 4 - 2 * day_count) % 2 != 0) {
    return Corrupt("read_model reply");
  }

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
  for (size_t i = 0; i < day_count; ++i) {
    absl::StatusOr<Day> day = Day::Parse((*items)[4 + 2 * i]);
    absl::StatusOr<int64_t> downloads = ParseNegativeScore((*items)[5 + 2 * i]);
    if (!day.ok() || !downloads.ok()) return Corrupt("read_model day");
    data.days.push_back({*day, *downloads});
    data.downloads_in_range += *downloads;
  }
  // Revision hash fields: "<YYYY-MM-DD>|<revision>".
  constexpr size_t kDayLength = 10;
  for (size_t i = 4 + 2 * day_count; i < items->size(); i += 2) {
    const std::string& field = (*items)[i];
    absl::StatusOr<Day> day = Day::Parse(absl::string_view(field).substr(0, kDayLength));
    absl::StatusOr<int64_t> downloads = ParseCount((*items)[i + 1]);
    if (!day.ok() || !downloads.ok() || field.size() <= kDayLength || field[kDayLength] != '|') {
      return Corrupt(absl::StrCat("model hash field '", field, "'"));
    }
    if (!range.Contains(*day)) continue;
    data.revisions.push_back({*day, field.substr(kDayLength + 1), *downloads});
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
    absl::StatusOr<std::vector<RedisReply>> counts =
        RunOnAllShards(Script::kCountAhead, args, deadline);
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
        absl::StatusOr<RedisReply> reply =
            (*lease)->Command({"HSCAN", key, cursor, "COUNT", "1000"});
        if (!reply.ok()) return reply.status();
        const redisReply* raw = reply->get();
        if (raw->type != REDIS_REPLY_ARRAY || raw->elements != 2 ||
            raw->element[0]->type != REDIS_REPLY_STRING) {
          return Corrupt(absl::StrCat("HSCAN ", key));
        }
        cursor.assign(raw->element[0]->str, raw->element[0]->len);
        const redisReply* items = raw->element[1];
        for (size_t i = 0; i + 1 < items->elements; i += 2) {
          absl::StatusOr<CatalogRecord> record = ParseRecord(
              absl::string_view(items->element[i]->str, items->element[i]->len),
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
  absl::StatusOr<RedisReply> reply = (*lease)->Command(
      {"HSET", absl::StrCat(prefix_, ":meta"), absl::StrCat("setting:", name), std::string(value)});
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return absl::UnavailableError(reply->error());
  return absl::OkStatus();
}

}  // namespace hubstats
