// RedisStore: the Store shared by every replica, in Redis.
//
// Keys are laid out per logical shard (shard = ShardOf(author)), each key of a shard carrying
// the hash tag "{<n>}", so every script and transaction touches one cluster slot;
// docs/DESIGN.md lists the keys. The shard count is fixed when a prefix is first used and
// recorded in "<prefix>:meta". Every write to a shard is atomic: an ingest window's shard is one
// WATCH/MULTI/EXEC transaction (a Lua script when the transaction keeps being refused); upserts
// and producer records are Lua scripts. Queries read each shard in one MULTI/EXEC (all time or
// one day) or one script (other ranges) and merge the shards.
//
// Thread-safe: calls share a pool of connections, each used by one call at a time.
#ifndef HUBSTATS_SERVICE_STORE_REDIS_STORE_H_
#define HUBSTATS_SERVICE_STORE_REDIS_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "store/redis_client.h"
#include "store/store.h"

namespace hubstats {

struct RedisStoreOptions {
  std::string url = "redis://127.0.0.1:6379";
  // Prefix of every key; lets several deployments share one Redis. No '{' or '}'.
  std::string key_prefix = "hubstats";
  // Shards for a new prefix. For an existing prefix: nullopt uses the recorded count; a value
  // that differs from it is an error.
  std::optional<uint32_t> shard_count;
  int pool_size = 8;
  // Apply every window with the apply_events script instead of WATCH/MULTI/EXEC transactions
  // (which are faster, and fall back to the script on their own under contention). For tests.
  bool apply_with_script = false;
  absl::Duration connect_timeout = absl::Seconds(2);
  absl::Duration command_timeout = absl::Seconds(10);
  // How long a query's reads may take in all; then the query fails with UNAVAILABLE. Queries
  // have their own connections, so a slow commit never holds one up.
  absl::Duration query_timeout = absl::Seconds(2);
};

inline constexpr uint32_t kDefaultShardCount = 16;
// Connections a commit window uses at once (one shard each at a time).
inline constexpr size_t kApplyLanes = 4;
// Transactions tried on one shard before it is applied by script instead.
inline constexpr int kTransactionAttempts = 4;
inline constexpr uint32_t kMaxShardCount = 1024;

class RedisStore : public Store {
 public:
  // Connects, loads the scripts and reads (or records) the shard count.
  // INVALID_ARGUMENT for bad options, FAILED_PRECONDITION when the prefix was made with another
  // shard count or layout version, UNAVAILABLE when Redis cannot be reached.
  static absl::StatusOr<std::unique_ptr<RedisStore>> Open(const RedisStoreOptions& options);

  uint32_t shard_count() const override { return shard_count_; }
  absl::StatusOr<std::vector<WindowShardResult>> ApplyWindow(
      absl::Span<const WindowShard> shards) override;
  absl::StatusOr<std::vector<ProducerVerdict>> CheckProducers(
      absl::Span<const BatchIdentity> identities) override;
  absl::Status CommitProducers(absl::Span<const BatchIdentity> identities) override;
  absl::StatusOr<std::vector<int64_t>> ReadAuthorTotals(
      absl::Span<const absl::string_view> authors) override;
  absl::Status Ping() override;
  absl::StatusOr<UpsertResult> UpsertModels(absl::Span<const CatalogEntry> entries) override;
  absl::StatusOr<AggregateCounts> ReadAggregates(const DayRange& range) override;
  absl::StatusOr<TopCandidates> ReadTop(const DayRange& range, RankBy by,
                                        std::optional<Modality> modality, int n) override;
  absl::StatusOr<Population> ReadPopulation(const DayRange& range) override;
  absl::StatusOr<ModelData> ReadModel(absl::string_view model_id, const DayRange& range) override;
  absl::Status ForEachCatalogRecord(
      const std::function<absl::Status(const CatalogRecord&)>& visit) override;
  absl::StatusOr<std::string> ReadSetting(absl::string_view name) override;
  absl::Status WriteSetting(absl::string_view name, absl::string_view value) override;

  // "<prefix>:{<shard>}": the start of every key of a shard.
  std::string ShardTag(uint32_t shard) const;

 private:
  enum class Script {
    kApplyEvents,
    kUpsertModels,
    kReadAggregates,
    kReadTop,
    kReadPopulation,
    kReadModel,
    kCountAhead,
    kProducerCheck,
    kProducerCommit,
    kCount
  };
  // One script call on one shard: the script and its ARGV after the tag.
  struct ShardCall {
    uint32_t shard = 0;
    Script script = Script::kReadAggregates;
    std::vector<std::string> args;
  };

  RedisStore(const RedisStoreOptions& options, RedisEndpoint endpoint);

  // Runs the calls pipelined on one connection; replies in the same order. Reloads the
  // scripts and retries once when Redis has lost them (NOSCRIPT). When the connection fails
  // (a pooled connection gone stale, a dropped link) the calls without a reply are sent once
  // more on a fresh connection: every call that goes through Run (reads, upserts, producer
  // checks and commits) is safe to repeat. Ingest shards do not go through Run (see
  // ApplyShard). A Redis error reply becomes
  // INTERNAL naming the script.
  //
  // With a `deadline` the calls are a query's reads: they run on the query connections, are
  // sent once more only after a connection failure (not after a timeout), and fail with
  // UNAVAILABLE once the deadline passes.
  absl::StatusOr<std::vector<RedisReply>> Run(const std::vector<ShardCall>& calls,
                                              absl::Time deadline = absl::InfiniteFuture());
  // One connection's attempt at Run: fills `replies` for the calls in `pending` that got one
  // and leaves the others in `pending`.
  absl::Status RunOnConnection(RedisConnection& connection, const std::vector<ShardCall>& calls,
                               std::vector<size_t>& pending, std::vector<RedisReply>& replies);
  // One call per shard with the same arguments.
  absl::StatusOr<std::vector<RedisReply>> RunOnAllShards(Script script,
                                                         const std::vector<std::string>& args,
                                                         absl::Time deadline);
  absl::Status LoadScripts(RedisConnection& connection);
  // "all" for all time, "d:<day>" for a one-day range, nullopt for anything longer.
  static std::optional<std::string> SingleScope(const DayRange& range);
  // Sends, on one connection, a MULTI / commands / EXEC per shard; returns each shard's EXEC
  // reply (an array with one reply per command). The commands must only read: after a
  // connection failure they are sent once more on a fresh connection.
  absl::StatusOr<std::vector<RedisReply>> RunTransactions(
      const std::function<std::vector<std::vector<std::string>>(const std::string& tag)>& commands,
      absl::Time deadline);
  // One attempt of RunTransactions on `connection`.
  absl::StatusOr<std::vector<RedisReply>> RunTransactionsOn(
      RedisConnection& connection,
      const std::function<std::vector<std::vector<std::string>>(const std::string& tag)>& commands);
  // One shard of a window as a WATCH / MULTI / EXEC transaction: reads the classes, marks and
  // author totals the writes depend on, then writes, redoing it when a watched key changed.
  absl::StatusOr<WindowShardResult> ApplyShard(RedisConnection& connection,
                                               const WindowShard& window);
  // The same with the apply_events script: atomic without watching anything.
  absl::StatusOr<WindowShardResult> ApplyShardWithScript(
      RedisConnection& connection, const WindowShard& window,
      const absl::flat_hash_map<absl::string_view, int64_t>& author_totals);
  absl::Status InitializeMeta(std::optional<uint32_t> requested_shards);
  // The pool for calls with `deadline`: the query connections for a finite one.
  RedisPool& PoolFor(absl::Time deadline) {
    return deadline == absl::InfiniteFuture() ? pool_ : query_pool_;
  }
  // A query's store failure as the query reports it: UNAVAILABLE saying Redis did not answer.
  absl::Status QueryFailure(const absl::Status& status) const;
  static bool RetryOnFreshConnection(const absl::Status& status, absl::Time deadline);

  const std::string prefix_;
  const bool apply_with_script_;
  const absl::Duration query_timeout_;
  uint32_t shard_count_ = kDefaultShardCount;
  RedisPool pool_;        // Ingest, upserts, producer records, settings, health.
  RedisPool query_pool_;  // Queries.
  std::vector<std::string> script_sources_;
  std::mutex script_mutex_;
  std::vector<std::string> script_shas_;  // Guarded by script_mutex_.
  const std::string unknown_class_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_STORE_REDIS_STORE_H_
