// RedisStore: the Store shared by every replica, in Redis (one server or a Redis Cluster).
//
// Layout (redis_keys.h builds every name; docs/DESIGN.md has the table). Per logical shard
// (ShardOf(author)), under the tag "<prefix>:{<shard>}" so that all of a shard is one cluster
// slot:
//   models          hash    model id -> "<index>" or "<index>\t<serialized record>"
//   all             string  all-time downloads, big-endian i64 per index (BITFIELD #<index>)
//   d:<day>         hash    index -> downloads that day (closed days: sparse)
//   dd:<day>        string  the same as a dense i64 array (open days: one BITFIELD a window)
//   days, dense     set     the days with downloads; the days with a dense array
//   authors         hash    author -> all-time downloads
//   rev:<index>     hash    "<day>|<revision>" -> downloads; "<YYYY-MM>|<revision>" when folded
//   m:<YYYY-MM>     hash    index -> downloads in a folded month (retention: FoldMonth)
//   months          set     the folded months
//   log             stream  one entry per change: "p" previous entry id, "r" ChangeRecord
//   version         string  the newest entry id: the shard's Version
//   applied:<p>     string  the highest sequence of producer p applied here (expires)
//   producer:<p>, producer-floor:<p>   on p's home shard: its committed batches (expire)
// and "<prefix>:meta" (layout "2", the shard count, settings) outside the shards.
//
// Invariants:
//  * A model's index is HLEN(models) when it is added and never changes: indexes of a shard
//    are exactly 0..HLEN-1, so the hash's length is the next free index (no counter to drift).
//  * Every change to a shard's facts (indexes, records, counters) is written in the same atomic
//    step as its log entry, and only through log.lua, which chains each entry to the previous
//    one ("p") and sets `version`. So `version` is the id of the newest entry, and a reader
//    holding version v that finds the entry after v chained to v has missed nothing.
//  * Counters only grow by the amounts logged (all time = the sum of the days, plus late
//    downloads counted into all time only, which are logged apart). A model's downloads
//    on a day are its field in d:<day> plus its counter in dd:<day>: a day is written dense
//    while it is open (within `dense_days` of the store's clock), sparse otherwise, and a
//    dense array whose day has closed is moved into the hash in one MULTI/EXEC (compaction
//    changes no fact, so it logs nothing). Replicas whose clocks disagree only pick different
//    forms.
//
// What is atomic, per shard:
//  * AssignIndexes, UpsertModels: one script (write_models.lua) that writes the entries and
//    logs them, if nothing the caller read meanwhile changed (else the caller reads again).
//  * ApplyWindow: one WATCH(marks) / MULTI / EXEC: counters, days, authors, revisions, marks
//    and the log entry (log_change.lua, EVAL'd inside the transaction). Conflicts are decided
//    from the marks read under WATCH; the exact limit from the authors' totals read before
//    (not watched: only another replica adding to the same author in between can pass it, and
//    only up to its own window's worth). EXEC refused (a mark moved) -> decided again.
//  * LoadShard: one MULTI/EXEC reading the whole shard at one version.
//  * FoldMonth: one script (fold_month.lua) that moves a month's day hashes and day revision
//    fields into the month's, if nothing the caller read meanwhile changed, and logs it.
//  Shards of one window are separate steps: a failure between them leaves the window applied
//  in some shards, which their marks then refuse to apply again.
//
// Change log and gaps: entries are trimmed once older than `change_log_retention` (measured
// from the newest entry's id, so a quiet shard keeps its last minute of changes).
// ReadChanges(after = v) answers a gap unless the first entry after v names v as its previous
// entry, or there is none and the shard's version is v: so a reader learns both that it fell
// behind the retention and that Redis lost data (the log restarted, or went backwards).
//
// Replication: with `wait_replicas` N, every write ends with WAIT N on its connection, and
// fewer acknowledgements are UNAVAILABLE (the write stands; a retry finds it): what a caller was
// told is written is then on N replicas, and survives a failover to one of them.
//
// Thread-safe. Writes and log reads use one pool per master; queries (ReadRevisions) have their
// own pool and a deadline.
//
// Code: redis_store.cc (opening, pipelines per master, WAIT, settings), redis_models.cc
// (indexes, records), redis_apply.cc (windows), redis_days.cc (the two forms of a day, and
// folding days into months),
// redis_producers.cc, redis_reads.cc (snapshots, the log, versions, queries), redis_replies.h.
#ifndef HUBSTATS_SERVICE_STORE_REDIS_STORE_H_
#define HUBSTATS_SERVICE_STORE_REDIS_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "store/redis_client.h"
#include "store/redis_keys.h"
#include "store/redis_topology.h"
#include "store/store.h"

namespace hubstats {

struct RedisStoreOptions {
  // One Redis: redis://[[user]:password@]host[:port][/db].
  std::string url = "redis://127.0.0.1:6379";
  // Not empty: a Redis Cluster reached through these seeds (each host:port or a redis:// URL;
  // see ParseClusterSeeds), and `url` is not used.
  std::vector<std::string> cluster_seeds;
  // Prefix of every key; lets several deployments share one Redis. No '{', '}' or space.
  std::string key_prefix = "hubstats";
  // Shards for a new prefix (1..kMaxShardCount). For an existing prefix: nullopt uses the
  // recorded count; a value that differs from it is an error.
  std::optional<uint32_t> shard_count;
  int pool_size = 8;  // Connections per master, for writes; as many again for queries.
  absl::Duration connect_timeout = absl::Seconds(2);
  absl::Duration command_timeout = absl::Seconds(10);
  // How long a query's reads may take in all; then the query fails with UNAVAILABLE.
  absl::Duration query_timeout = absl::Seconds(2);
  // How long change records are kept (from the newest entry of the shard).
  absl::Duration change_log_retention = absl::Seconds(60);
  // > 0: every write waits until this many replicas of its master have it (WAIT), so what a
  // caller was told is written survives a failover; fewer in `wait_timeout` is UNAVAILABLE
  // (the write happened; a retry finds it applied). 0: off.
  int wait_replicas = 0;
  absl::Duration wait_timeout = absl::Seconds(1);
  // Days written as dense arrays: the last `dense_days` UTC days by this process' clock (2:
  // today and yesterday). Older days are written to, and compacted into, sparse hashes. 0:
  // always sparse.
  int dense_days = 2;
};

inline constexpr uint32_t kDefaultShardCount = 16;
inline constexpr uint32_t kMaxShardCount = 1024;
// Connections a commit window uses at once (one shard each at a time).
inline constexpr size_t kApplyLanes = 4;
// Times a shard's transaction is decided again after EXEC was refused (a watched mark moved)
// or a script found its reads stale, before UNAVAILABLE.
inline constexpr int kTransactionAttempts = 16;

class RedisStore : public Store {
 public:
  // Connects, reads (or records) the layout and the shard count, loads the scripts.
  // INVALID_ARGUMENT for bad options; FAILED_PRECONDITION when the prefix holds another layout
  // version or was made with another shard count, or a single-Redis URL names a cluster node;
  // UNAVAILABLE when Redis cannot be reached.
  static absl::StatusOr<std::unique_ptr<RedisStore>> Open(const RedisStoreOptions& options);
  ~RedisStore() override;

  uint32_t shard_count() const override { return shard_count_; }
  absl::StatusOr<std::vector<uint32_t>> AssignIndexes(
      uint32_t shard, absl::Span<const std::string> model_ids) override;
  absl::StatusOr<std::vector<WindowShardResult>> ApplyWindow(
      absl::Span<const WindowShard> shards) override;
  absl::StatusOr<std::vector<int64_t>> ReadAuthorTotals(
      absl::Span<const absl::string_view> authors) override;
  absl::StatusOr<std::vector<ProducerVerdict>> CheckProducers(
      absl::Span<const BatchIdentity> identities) override;
  absl::Status CommitProducers(absl::Span<const BatchIdentity> identities) override;
  absl::StatusOr<UpsertResult> UpsertModels(absl::Span<const CatalogRecord> records) override;
  absl::StatusOr<ShardSnapshot> LoadShard(uint32_t shard) override;
  absl::StatusOr<std::vector<ShardChanges>> ReadChanges(
      absl::Span<const std::pair<uint32_t, Version>> after, size_t limit) override;
  absl::StatusOr<VersionVector> ReadVersions(absl::Time deadline = absl::InfiniteFuture()) override;
  absl::StatusOr<std::optional<Day>> FoldMonth(uint32_t shard, Day before) override;
  absl::StatusOr<std::vector<RevisionDownloads>> ReadRevisions(uint32_t shard, uint32_t index,
                                                               const DayRange& range,
                                                               absl::Time deadline) override;
  absl::Status Ping() override;
  absl::StatusOr<std::string> ReadSetting(absl::string_view name) override;
  absl::Status WriteSetting(absl::string_view name, absl::string_view value) override;

  // Moves every dense day array whose day is no longer open into its sparse hash, in every
  // shard. ApplyWindow does this by itself for the shards it writes; this is for idle shards,
  // operators and tests. Facts and versions do not change.
  absl::Status CompactClosedDays();

  const std::string& key_prefix() const { return prefix_; }
  // The topology writes go through (for tests and metrics: redirects, failures).
  RedisTopology& topology() { return *topology_; }

 private:
  enum class Script {
    kLogChange,
    kWriteModels,
    kProducerCheck,
    kProducerCommit,
    kFoldMonth,
    kCount
  };

  // Commands for one shard and, once run, their replies.
  struct ShardCommands {
    uint32_t shard = 0;
    std::vector<std::vector<std::string>> commands;
    std::vector<RedisReply> replies;
  };
  static std::vector<ShardCommands> OneShard(uint32_t shard,
                                             std::vector<std::vector<std::string>> commands) {
    std::vector<ShardCommands> shards(1);
    shards[0].shard = shard;
    shards[0].commands = std::move(commands);
    return shards;
  }

  RedisStore(const RedisStoreOptions& options, std::unique_ptr<RedisTopology> topology,
             std::unique_ptr<RedisTopology> query_topology);

  // --- Plumbing (redis_store.cc) ---
  absl::Status InitializeMeta(std::optional<uint32_t> requested_shards);
  absl::Status LoadScripts(RedisConnection& connection);
  redis_keys::ShardKeys Keys(uint32_t shard) const { return {prefix_, shard}; }
  static int SlotOf(uint32_t shard);
  // EVALSHA of `script`, as a command to queue.
  std::vector<std::string> EvalSha(Script script, const std::vector<std::string>& keys,
                                   std::vector<std::string> args) const;
  // Sends `commands` on `connection` and reads every reply into `replies`. A NOSCRIPT reply
  // (the node lost its scripts: a restart, a promoted replica) loads them and sends the
  // commands again. Returns a routing status (RoutingStatus) when a reply was a redirect.
  absl::Status SendAndRead(RedisConnection& connection,
                           const std::vector<std::vector<std::string>>& commands,
                           std::vector<RedisReply>& replies);
  // Runs each shard's commands, pipelined per master, and fills their replies; shards whose
  // replies were redirected are run again alone, following the redirect. The commands must be
  // safe to send twice (reads, producer records). Error replies are left in the replies. With
  // `wait`, each master's pipeline ends with WaitForReplicas.
  // With a finite `deadline` the commands are a query's reads: they run on the query
  // connections, time out at the deadline and then fail with UNAVAILABLE (QueryFailure).
  absl::Status Pipeline(std::vector<ShardCommands>& shards, bool wait = false,
                        absl::Time deadline = absl::InfiniteFuture());
  // Another writer got there first (a mark moved, a model was indexed): sleeps a little, at
  // random, so two replicas do not keep colliding.
  static void StepAside(int attempt);
  // Sends UNWATCH, so the connection's next user starts without a WATCH; a connection where
  // that fails is discarded. Returns `status` (or the connection's failure).
  static absl::Status ClearWatch(RedisConnection& connection, absl::Status status);
  // After a write on `connection`: WAIT for `wait_replicas_` replicas (no-op when 0).
  absl::Status WaitForReplicas(RedisConnection& connection);
  // Runs `eval` (an EvalSha of a script that answers {'ok', version} after logging its change,
  // or {'stale'} after writing nothing) on the shard's master, then WaitForReplicas. Sent again
  // after a lost reply, so the script must find its own writes stale. Returns the version, or
  // nullopt for "stale"; `name` goes into corrupt-reply errors.
  absl::StatusOr<std::optional<Version>> RunLoggedScript(uint32_t shard,
                                                         std::vector<std::string> eval,
                                                         absl::string_view name);
  // One command on one key outside the shards ("<prefix>:meta").
  absl::StatusOr<RedisReply> MetaCommand(const std::vector<std::string>& args,
                                         Idempotence idempotence);

  // --- Writes (redis_models.cc: indexes and records; redis_apply.cc: windows) ---
  // Writes models-hash entries (id, expected value, new value) with write_models.lua, logging
  // `record`; returns the version. Stale reads come back as nullopt.
  struct ModelWrite {
    std::string model_id, expected, value;
  };
  // Some models' entries in a shard's models hash, and the hash's length, as one read saw them.
  struct ModelsRead {
    struct Stored {
      std::optional<std::string> value;  // The hash value; nullopt: the model has no index.
      uint32_t index = 0;
      std::optional<CatalogRecord> record;
    };
    std::vector<Stored> stored;  // As the ids asked.
    int64_t length = 0;
  };
  absl::StatusOr<ModelsRead> ReadModels(uint32_t shard, absl::Span<const std::string> model_ids);
  absl::StatusOr<std::optional<Version>> WriteModels(uint32_t shard, int64_t expected_length,
                                                     const ChangeRecord& record,
                                                     const std::vector<ModelWrite>& writes);
  absl::StatusOr<WindowShardResult> ApplyShard(const WindowShard& window);

  // --- Producers (redis_producers.cc) ---
  // One `script` call per identity on the producer's home shard: its log and floor as keys,
  // sequence, digest and `more_args` as arguments.
  std::vector<ShardCommands> ProducerCalls(Script script,
                                           absl::Span<const BatchIdentity> identities,
                                           const std::vector<std::string>& more_args) const;

  // --- Days (redis_days.cc) ---
  // Whether downloads of `day` are written to its dense array now.
  bool IsOpen(Day day) const;
  // Moves `day`'s dense array in `shard` into its hash (one WATCH/MULTI/EXEC; safe to repeat).
  absl::Status CompactDay(uint32_t shard, Day day);
  // The shard's dense days that are no longer open.
  absl::StatusOr<std::vector<Day>> ClosedDenseDays(uint32_t shard);

  // --- Queries (redis_reads.cc) ---
  // A query's store failure as the query reports it: UNAVAILABLE saying Redis did not answer.
  absl::Status QueryFailure(const absl::Status& status) const;

  const std::string prefix_;
  const absl::Duration query_timeout_;
  const absl::Duration retention_;
  const int wait_replicas_;
  const absl::Duration wait_timeout_;
  const int dense_days_;
  uint32_t shard_count_ = kDefaultShardCount;
  std::unique_ptr<RedisTopology> topology_;        // Writes, log reads, settings, health.
  std::unique_ptr<RedisTopology> query_topology_;  // Queries.
  std::vector<std::string> script_sources_;
  std::vector<std::string> script_shas_;  // SHA1 of each source: set by Open, then constant.
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_STORE_REDIS_STORE_H_
