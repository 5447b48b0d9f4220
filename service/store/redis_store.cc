// RedisStore plumbing: opening (topology, meta, scripts), pipelines per master, WAIT, settings.
// The write path is in redis_apply.cc, producer records in redis_producers.cc, reads in
// redis_reads.cc.
#include "store/redis_store.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <map>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "store/redis_cluster.h"
#include "store/redis_replies.h"

namespace hubstats {
namespace embedded {
extern const std::string_view log_lua, log_change_lua, write_models_lua, producer_check_lua,
    producer_commit_lua, fold_month_lua;
}  // namespace embedded

namespace {

constexpr absl::string_view kScriptNames[] = {"log_change", "write_models", "producer_check",
                                              "producer_commit", "fold_month"};

std::vector<std::string> ScriptSources() {
  // Scripts that log get the one log_change function prepended.
  auto with_log = [](std::string_view script) {
    return absl::StrCat(absl::string_view(embedded::log_lua.data(), embedded::log_lua.size()), "\n",
                        absl::string_view(script.data(), script.size()));
  };
  return {with_log(embedded::log_change_lua), with_log(embedded::write_models_lua),
          std::string(embedded::producer_check_lua), std::string(embedded::producer_commit_lua),
          with_log(embedded::fold_month_lua)};
}

bool IsNoScript(const RedisReply& reply) {
  return reply.is_error() && absl::StartsWith(reply.error(), "NOSCRIPT");
}

}  // namespace

RedisStore::RedisStore(const RedisStoreOptions& options, std::unique_ptr<RedisTopology> topology,
                       std::unique_ptr<RedisTopology> query_topology)
    : prefix_(options.key_prefix),
      query_timeout_(options.query_timeout),
      retention_(options.change_log_retention),
      wait_replicas_(options.wait_replicas),
      wait_timeout_(options.wait_timeout),
      dense_days_(options.dense_days),
      topology_(std::move(topology)),
      query_topology_(std::move(query_topology)),
      script_sources_(ScriptSources()) {}

RedisStore::~RedisStore() = default;

absl::StatusOr<std::unique_ptr<RedisStore>> RedisStore::Open(const RedisStoreOptions& options) {
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
  if (options.wait_replicas < 0 || options.dense_days < 0) {
    return absl::InvalidArgumentError("wait replicas and dense days must be >= 0");
  }
  if (options.change_log_retention < absl::Milliseconds(1) ||
      options.query_timeout <= absl::ZeroDuration() ||
      options.command_timeout <= absl::ZeroDuration() ||
      options.connect_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "redis timeouts and the change log retention must be positive");
  }
  // Queries get their own connections (a commit never holds one up), time out with the query
  // timeout, and are retried by the router only within it.
  const absl::Duration query_connect = std::min(options.connect_timeout, options.query_timeout);
  RedisRetryOptions query_retry;
  query_retry.budget = options.query_timeout;
  // The router retries an idempotent write for at most one call timeout: an outage longer than
  // that is the caller's to retry (the group committer, for --store-retry-ms) or to report.
  RedisRetryOptions write_retry;
  write_retry.budget = std::min(write_retry.budget, options.command_timeout);
  std::unique_ptr<RedisTopology> topology, query_topology;
  if (options.cluster_seeds.empty()) {
    absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(options.url);
    if (!endpoint.ok()) return endpoint.status();
    topology =
        std::make_unique<SingleRedisTopology>(*endpoint, options.pool_size, options.connect_timeout,
                                              options.command_timeout, write_retry);
    query_topology = std::make_unique<SingleRedisTopology>(
        *endpoint, options.pool_size, query_connect, options.query_timeout, query_retry);
  } else {
    absl::StatusOr<std::vector<RedisEndpoint>> seeds =
        ParseClusterSeeds(absl::StrJoin(options.cluster_seeds, ","));
    if (!seeds.ok()) return seeds.status();
    RedisClusterOptions cluster;
    cluster.seeds = *seeds;
    cluster.pool_size = options.pool_size;
    cluster.connect_timeout = options.connect_timeout;
    cluster.command_timeout = options.command_timeout;
    cluster.retry = write_retry;
    absl::StatusOr<std::unique_ptr<RedisCluster>> writes = RedisCluster::Connect(cluster);
    if (!writes.ok()) return writes.status();
    cluster.connect_timeout = query_connect;
    cluster.command_timeout = options.query_timeout;
    cluster.retry = query_retry;
    absl::StatusOr<std::unique_ptr<RedisCluster>> queries = RedisCluster::Connect(cluster);
    if (!queries.ok()) return queries.status();
    topology = *std::move(writes);
    query_topology = *std::move(queries);
  }
  std::unique_ptr<RedisStore> store(
      new RedisStore(options, std::move(topology), std::move(query_topology)));
  // SCRIPT LOAD answers each script's SHA1, the same on every node.
  if (absl::Status loaded = store->topology_->ForEachMaster(
          [&](RedisConnection& connection) { return store->LoadScripts(connection); });
      !loaded.ok()) {
    return loaded;
  }
  if (absl::Status meta = store->InitializeMeta(options.shard_count); !meta.ok()) return meta;
  return store;
}

absl::Status RedisStore::LoadScripts(RedisConnection& connection) {
  std::vector<std::string> shas;
  for (size_t i = 0; i < script_sources_.size(); ++i) {
    absl::StatusOr<RedisReply> reply = connection.Command({"SCRIPT", "LOAD", script_sources_[i]});
    if (!reply.ok()) return reply.status();
    if (absl::Status routing = RoutingStatus(*reply); !routing.ok()) return routing;
    absl::StatusOr<std::optional<absl::string_view>> sha =
        ReplyText(reply->get(), absl::StrCat("SCRIPT LOAD ", kScriptNames[i]));
    if (!sha.ok()) return sha.status();
    if (!*sha) return CorruptReply("SCRIPT LOAD answered nil");
    shas.emplace_back(**sha);
  }
  if (script_shas_.empty()) script_shas_ = std::move(shas);  // Only while opening.
  return absl::OkStatus();
}

absl::Status RedisStore::InitializeMeta(std::optional<uint32_t> requested_shards) {
  const std::string meta = redis_keys::Meta(prefix_);
  // HSETNX: the first process to start on a prefix decides; everyone else reads its choice.
  for (const auto& [field, value] :
       {std::pair<std::string, std::string>{"layout", std::string(redis_keys::kLayoutVersion)},
        {"shards", absl::StrCat(requested_shards.value_or(kDefaultShardCount))}}) {
    absl::StatusOr<RedisReply> reply =
        MetaCommand({"HSETNX", meta, field, value}, Idempotence::kIdempotent);
    if (!reply.ok()) return reply.status();
    if (absl::Status status = CheckReply(reply->get(), "HSETNX meta"); !status.ok()) {
      return status;
    }
  }
  absl::StatusOr<RedisReply> reply =
      MetaCommand({"HMGET", meta, "layout", "shards"}, Idempotence::kIdempotent);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<std::vector<const redisReply*>> values = ReplyArray(reply->get(), "HMGET meta", 2);
  if (!values.ok()) return values.status();
  absl::StatusOr<std::optional<absl::string_view>> layout = ReplyText((*values)[0], "layout");
  absl::StatusOr<std::optional<absl::string_view>> shards = ReplyText((*values)[1], "shards");
  if (!layout.ok() || !shards.ok() || !*layout || !*shards) return CorruptReply(meta);
  if (**layout != redis_keys::kLayoutVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "keys under prefix '", prefix_, "' use layout version ", **layout,
        "; this server reads and writes version ", redis_keys::kLayoutVersion,
        " (counters as facts with a change log) and does not convert old data. Start it with "
        "another --redis-prefix and load the catalog and events again, or delete the old keys "
        "(redis-cli --scan --pattern '",
        prefix_, ":*' | xargs redis-cli del)."));
  }
  uint32_t recorded = 0;
  if (!absl::SimpleAtoi(**shards, &recorded) || recorded < 1 || recorded > kMaxShardCount) {
    return CorruptReply(absl::StrCat(meta, " shards = '", **shards, "'"));
  }
  if (requested_shards && *requested_shards != recorded) {
    return absl::FailedPreconditionError(absl::StrCat(
        "prefix '", prefix_, "' was created with ", recorded, " shards; --shards ",
        *requested_shards, " cannot change it (leave the flag out to use ", recorded, ")"));
  }
  shard_count_ = recorded;
  return absl::OkStatus();
}

int RedisStore::SlotOf(uint32_t shard) { return RedisKeySlot(redis_keys::HashTag(shard)); }

std::vector<std::string> RedisStore::EvalSha(Script script, const std::vector<std::string>& keys,
                                             std::vector<std::string> args) const {
  std::vector<std::string> command = {"EVALSHA", script_shas_[static_cast<int>(script)],
                                      absl::StrCat(keys.size())};
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), std::make_move_iterator(args.begin()),
                 std::make_move_iterator(args.end()));
  return command;
}

absl::Status RedisStore::SendAndRead(RedisConnection& connection,
                                     const std::vector<std::vector<std::string>>& commands,
                                     std::vector<RedisReply>& replies) {
  for (int attempt = 0;; ++attempt) {
    for (const std::vector<std::string>& command : commands) connection.Append(command);
    replies.clear();
    replies.resize(commands.size());
    // Every reply is read before any is judged, so the connection stays in step.
    absl::Status routing;
    bool lost_scripts = false;
    for (RedisReply& reply : replies) {
      absl::StatusOr<RedisReply> read = connection.GetReply();
      if (!read.ok()) return read.status();
      if (absl::Status status = RoutingStatus(*read); !status.ok() && routing.ok()) {
        routing = status;
      }
      lost_scripts = lost_scripts || IsNoScript(*read);
      reply = *std::move(read);
    }
    if (!routing.ok()) return routing;
    // NOSCRIPT: the script did not run at all, so sending the commands again is safe.
    if (!lost_scripts || attempt > 0) return absl::OkStatus();
    if (absl::Status loaded = LoadScripts(connection); !loaded.ok()) return loaded;
  }
}

absl::Status RedisStore::Pipeline(std::vector<ShardCommands>& shards, bool wait,
                                  absl::Time deadline) {
  const bool query = deadline != absl::InfiniteFuture();
  RedisTopology& topology = query ? *query_topology_ : *topology_;
  // A query's reads share one deadline: every connection times out at it, then goes back to
  // the pool with the query timeout it had.
  auto bounded = [&](RedisConnection& connection, auto&& send) -> absl::Status {
    if (!query) return send();
    if (absl::Now() >= deadline) return absl::DeadlineExceededError("the query's deadline passed");
    connection.SetTimeout(deadline - absl::Now());
    absl::Status status = send();
    connection.SetTimeout(query_timeout_);
    return status;
  };
  // One pipeline per master as the map says now; shards whose slot moved meanwhile are
  // answered with a redirect and run again alone below, through the router.
  std::map<std::string, std::vector<size_t>> by_master;
  for (size_t i = 0; i < shards.size(); ++i) {
    by_master[topology.MasterOf(SlotOf(shards[i].shard))].push_back(i);
  }
  std::vector<size_t> alone;
  for (const auto& [master, members] : by_master) {
    if (master.empty()) {  // No master known for these slots: the router finds one.
      alone.insert(alone.end(), members.begin(), members.end());
      continue;
    }
    std::vector<std::vector<std::string>> commands;
    for (size_t i : members) {
      commands.insert(commands.end(), shards[i].commands.begin(), shards[i].commands.end());
    }
    std::vector<RedisReply> replies;
    absl::Status status =
        topology.Run(SlotOf(shards[members[0]].shard), Idempotence::kIdempotent,
                     [&](RedisConnection& connection) -> absl::Status {
                       return bounded(connection, [&]() -> absl::Status {
                         absl::Status sent = SendAndRead(connection, commands, replies);
                         // Redirects are sorted out per shard below;
                         // the other shards' writes are waited for here.
                         if (!sent.ok() && !RoutingOf(sent)) return sent;
                         return wait ? WaitForReplicas(connection) : absl::OkStatus();
                       });
                     });
    if (!status.ok()) return query ? QueryFailure(status) : status;
    size_t next = 0;
    for (size_t i : members) {
      ShardCommands& shard = shards[i];
      shard.replies.clear();
      bool redirected = false;
      for (size_t c = 0; c < shard.commands.size(); ++c, ++next) {
        redirected = redirected || !RoutingStatus(replies[next]).ok();
        shard.replies.push_back(std::move(replies[next]));
      }
      if (redirected) alone.push_back(i);
    }
  }
  for (size_t i : alone) {
    ShardCommands& shard = shards[i];
    absl::Status status = topology.Run(
        SlotOf(shard.shard), Idempotence::kIdempotent, [&](RedisConnection& connection) {
          return bounded(connection, [&]() -> absl::Status {
            absl::Status sent = SendAndRead(connection, shard.commands, shard.replies);
            if (!sent.ok() || !wait) return sent;
            return WaitForReplicas(connection);
          });
        });
    if (!status.ok()) return query ? QueryFailure(status) : status;
  }
  return absl::OkStatus();
}

void RedisStore::StepAside(int attempt) {
  thread_local std::minstd_rand random(std::random_device{}());
  absl::SleepFor(absl::Microseconds(50 + random() % (200 * std::min(attempt, 10))));
}

absl::Status RedisStore::ClearWatch(RedisConnection& connection, absl::Status status) {
  if (connection.broken()) return status;
  absl::StatusOr<RedisReply> unwatched = connection.Command({"UNWATCH"});
  // A WATCH left behind would make a later user's EXEC fail: such a connection goes.
  if (!unwatched.ok() || unwatched->is_error()) connection.Discard();
  return unwatched.ok() ? status : unwatched.status();
}

absl::Status RedisStore::WaitForReplicas(RedisConnection& connection) {
  if (wait_replicas_ == 0) return absl::OkStatus();
  absl::StatusOr<RedisReply> reply =
      connection.Command({"WAIT", absl::StrCat(wait_replicas_),
                          absl::StrCat(absl::ToInt64Milliseconds(wait_timeout_))});
  if (!reply.ok()) return reply.status();
  absl::StatusOr<int64_t> acknowledged = ReplyInteger(reply->get(), "WAIT");
  if (!acknowledged.ok()) return acknowledged.status();
  if (*acknowledged < wait_replicas_) {
    return absl::UnavailableError(absl::StrCat(
        "redis: only ", *acknowledged, " of ", wait_replicas_, " replicas acknowledged a write in ",
        absl::FormatDuration(wait_timeout_), "; it may not survive a failover (retry)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Version>> RedisStore::RunLoggedScript(uint32_t shard,
                                                                   std::vector<std::string> eval,
                                                                   absl::string_view name) {
  const std::vector<std::vector<std::string>> commands = {std::move(eval)};
  std::optional<Version> version;
  absl::Status status = topology_->Run(
      SlotOf(shard), Idempotence::kIdempotent, [&](RedisConnection& connection) -> absl::Status {
        version.reset();
        std::vector<RedisReply> replies;
        if (absl::Status sent = SendAndRead(connection, commands, replies); !sent.ok()) {
          return sent;
        }
        absl::StatusOr<std::vector<const redisReply*>> items = ReplyArray(replies[0].get(), name);
        if (!items.ok()) return items.status();
        absl::StatusOr<std::optional<absl::string_view>> verdict =
            items->empty() ? CorruptReply(absl::StrCat(name, ": empty reply"))
                           : ReplyText((*items)[0], name);
        if (!verdict.ok()) return verdict.status();
        if (*verdict == "stale") return absl::OkStatus();
        if (*verdict != "ok" || items->size() != 2) {
          return CorruptReply(absl::StrCat(name, " verdict"));
        }
        absl::StatusOr<Version> written = ReplyVersion((*items)[1], absl::StrCat(name, " version"));
        if (!written.ok()) return written.status();
        version = *written;
        return WaitForReplicas(connection);
      });
  if (!status.ok()) return status;
  return version;
}

absl::StatusOr<RedisReply> RedisStore::MetaCommand(const std::vector<std::string>& args,
                                                   Idempotence idempotence) {
  return topology_->Command(RedisKeySlot(redis_keys::Meta(prefix_)), args, idempotence);
}

absl::Status RedisStore::Ping() {
  // Every master must answer: a shard on a master that does not is unavailable.
  return topology_->ForEachMaster([](RedisConnection& connection) -> absl::Status {
    absl::StatusOr<RedisReply> reply = connection.Command({"PING"});
    if (!reply.ok()) return reply.status();
    if (reply->is_error()) return absl::UnavailableError(absl::StrCat("PING: ", reply->error()));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::string> RedisStore::ReadSetting(absl::string_view name) {
  absl::StatusOr<RedisReply> reply =
      MetaCommand({"HGET", redis_keys::Meta(prefix_), redis_keys::SettingField(name)},
                  Idempotence::kIdempotent);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<std::optional<absl::string_view>> value = ReplyText(reply->get(), "HGET setting");
  if (!value.ok()) return value.status();
  return std::string(value->value_or(""));
}

absl::Status RedisStore::WriteSetting(absl::string_view name, absl::string_view value) {
  absl::StatusOr<RedisReply> reply = MetaCommand(
      {"HSET", redis_keys::Meta(prefix_), redis_keys::SettingField(name), std::string(value)},
      Idempotence::kIdempotent);
  if (!reply.ok()) return reply.status();
  return CheckReply(reply->get(), "HSET setting");
}

}  // namespace hubstats
