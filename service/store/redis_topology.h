// Where a Redis command goes: the seam between the store and one Redis or a Redis Cluster.
//
// The store names the slot its keys live in (every key of a hubstats shard carries the same
// hash tag, so one slot) and runs a *sequence* on a connection to the master serving that slot:
// one command, a pipeline, WATCH/MULTI/EXEC or EVALSHA. `RedisTopology::Run` follows the
// cluster's redirects and retries what is safe to retry; two implementations sit behind it:
//
// * `SingleRedisTopology` (this file): one Redis, one pool; every slot is that server.
// * `RedisCluster` (redis_cluster.h): a slot map read from the cluster, one pool per master.
//
// How a sequence cooperates with Run (the contract of `RedisTopology::Sequence`):
// * It passes every reply it reads through `RoutingStatus` and, when that is not OK, finishes
//   reading the replies it caused (the connection must stay in step: EXEC or DISCARD an open
//   MULTI) and returns that status. Inside MULTI a redirect comes back on the queued command
//   (EXEC then answers EXECABORT), so queued replies are checked too, not only EXEC's.
// * It may be sent more than once: after MOVED, ASK or a retryable cluster error Run sends the
//   whole sequence again. Redis did not run the command that was refused, but it did run the
//   commands before it in the same sequence, so a sequence whose earlier commands change data
//   must be a single command, a MULTI/EXEC transaction (refused whole: EXEC aborts), a script,
//   or idempotent.
// * After a connection failure or a timeout in the middle of a sequence, Redis may or may not
//   have run it; Run sends it again only when the caller says it is idempotent.
#ifndef HUBSTATS_SERVICE_STORE_REDIS_TOPOLOGY_H_
#define HUBSTATS_SERVICE_STORE_REDIS_TOPOLOGY_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "store/redis_client.h"

namespace hubstats {

inline constexpr int kRedisClusterSlots = 16384;

// CRC16/XMODEM (polynomial 0x1021, initial value 0), the checksum Redis Cluster hashes keys with
// ("123456789" -> 0x31C3).
uint16_t RedisCrc16(absl::string_view data);

// The cluster slot of a key, as Redis computes it: CRC16 of the key's hash tag (the bytes
// between the first '{' and the first '}' after it, when there are any) or else of the whole
// key, modulo 16384.
int RedisKeySlot(absl::string_view key);

// What a reply means for routing.
struct RedisRouting {
  enum class Kind {
    kNone,   // A normal reply, or an error that is the caller's (WRONGTYPE, NOSCRIPT, EXECABORT).
    kMoved,  // MOVED: `slot` is served by `node` now. The command did not run.
    kAsk,    // ASK: `slot` is migrating to `node`; send ASKING there, then the command, once.
    kRetry,  // TRYAGAIN, CLUSTERDOWN, LOADING, READONLY, MASTERDOWN: did not run; try again
             // later (after a map refresh for CLUSTERDOWN and READONLY: refresh_map).
  };
  Kind kind = Kind::kNone;
  int slot = -1;     // kMoved, kAsk.
  std::string node;  // kMoved, kAsk: "host:port".
  bool refresh_map = false;
  std::string error;  // The error text, for messages.
};

// The routing meaning of a reply (nullptr is kNone). A MOVED or ASK reply that cannot be parsed
// is kNone: the caller then sees it as an ordinary error.
RedisRouting ClassifyReply(const RedisReply& reply);

// OK when the reply is kNone; otherwise UNAVAILABLE with the routing attached, which
// `RoutingOf` reads back. UNAVAILABLE is what a caller sees if Run gives up, so it stays
// retryable by the store's contract.
absl::Status RoutingStatus(const RedisReply& reply);
// The routing attached by RoutingStatus, or nullopt for any other status.
std::optional<RedisRouting> RoutingOf(const absl::Status& status);

// Whether a sequence may be sent again after its connection failed or timed out while it was
// in flight (Redis may have run it).
enum class Idempotence { kNotIdempotent, kIdempotent };

// How long Run keeps trying. Redirects (MOVED, ASK) are followed at once; retryable errors and
// connection failures wait `initial_backoff`, doubling up to `max_backoff`.
struct RedisRetryOptions {
  int max_attempts = 16;                     // Sends of the sequence, redirects included.
  absl::Duration budget = absl::Seconds(3);  // Run gives up once this has passed.
  absl::Duration initial_backoff = absl::Milliseconds(10);
  absl::Duration max_backoff = absl::Milliseconds(250);
};

// What Run does after an attempt: the pure decision, exposed for tests.
struct RedisRetryDecision {
  enum class Action {
    kReturn,  // Hand the outcome to the caller.
    kRetry,   // Send the sequence again to the slot's master (after `delay`).
    kAsk,     // Send ASKING and the sequence to `routing.node`.
  };
  Action action = Action::kReturn;
  absl::Duration delay;
  RedisRouting routing;            // The routing error, if the outcome was one.
  bool connection_failed = false;  // The topology should learn of it (even when kReturn).
  bool exhausted = false;          // kReturn although a retry was due: max_attempts reached.
};
// `outcome` is the sequence's status (or the failure to get a connection, `sent` false);
// `connection_broken` whether its connection failed; `attempt` counts from 1.
RedisRetryDecision DecideRetry(const absl::Status& outcome, bool sent, bool connection_broken,
                               Idempotence idempotence, int attempt,
                               const RedisRetryOptions& options);

// Thread-safety: every method may be called from many threads at once. Connections come from
// pools and belong to one caller at a time.
class RedisTopology {
 public:
  virtual ~RedisTopology() = default;

  // A pooled connection to one node, returned to its pool on destruction. Leases must not
  // outlive the topology.
  class Lease {
   public:
    Lease(RedisPool::Lease lease, std::string node)
        : lease_(std::move(lease)), node_(std::move(node)) {}
    RedisConnection* operator->() const { return &*lease_; }
    RedisConnection& operator*() const { return *lease_; }
    // The node, "host:port": callers may group slots served by one node into one pipeline.
    const std::string& node() const { return node_; }

   private:
    RedisPool::Lease lease_;
    std::string node_;
  };

  // A connection to the master that serves `slot` (0..16383) according to the current map.
  // UNAVAILABLE when that master cannot be reached or no master serves the slot. Redirects on
  // it are the caller's to handle (`Run` does that).
  virtual absl::StatusOr<Lease> Acquire(int slot) = 0;

  // Calls `fn` with a connection to every master (e.g. to load scripts), one after another.
  // Returns OK, or the first failure after trying every master.
  virtual absl::Status ForEachMaster(absl::FunctionRef<absl::Status(RedisConnection&)> fn) = 0;

  // The masters by "host:port" (in slot order as of the last map read). One entry for a single
  // Redis.
  virtual std::vector<std::string> Masters() = 0;

  // The master of `slot` in the current map, "host:port" ("" when none): callers may pipeline
  // commands for slots of one master together (a redirect then sends one of them elsewhere).
  virtual std::string MasterOf(int slot) = 0;

  // See the file comment for what a sequence must do.
  using Sequence = absl::FunctionRef<absl::Status(RedisConnection&)>;

  // Runs `sequence` on the master of `slot`, following MOVED and ASK and retrying retryable
  // cluster errors and connection failures (the latter only before anything was sent, or when
  // `idempotence` says so) within `retry_options()`. Returns the sequence's status; when Run
  // gives up, the last failure as UNAVAILABLE (or DEADLINE_EXCEEDED for a timeout).
  absl::Status Run(int slot, Idempotence idempotence, Sequence sequence);

  // One command through Run; every command's reply arrives in one piece, so this is always
  // safe to repeat after a redirect. Error replies that are not routing come back as replies.
  absl::StatusOr<RedisReply> Command(int slot, const std::vector<std::string>& args,
                                     Idempotence idempotence);

  // Counters for tests, logs and metrics.
  struct Stats {
    int64_t moved = 0;    // MOVED replies seen.
    int64_t asked = 0;    // ASK replies seen.
    int64_t retried = 0;  // Retries after TRYAGAIN, CLUSTERDOWN, LOADING, READONLY.
    int64_t connection_failures = 0;
    int64_t map_refreshes = 0;  // Slot maps read from the cluster.
  };
  Stats stats() const;

  const RedisRetryOptions& retry_options() const { return retry_options_; }

 protected:
  explicit RedisTopology(RedisRetryOptions retry_options) : retry_options_(retry_options) {}

  // A connection to `node` ("host:port"), for ASK.
  virtual absl::StatusOr<Lease> AcquireNode(const std::string& node) = 0;
  // MOVED: `slot` is served by `node`. A non-OK status ends Run with it.
  virtual absl::Status OnMoved(int slot, const std::string& node) = 0;
  // A connection to `node` failed ("" when no node was chosen); or the cluster said its map
  // changed (CLUSTERDOWN, READONLY). The map should be read again before long.
  virtual void OnTopologyDoubt(const std::string& node) = 0;

  std::atomic<int64_t> moved_{0}, asked_{0}, retried_{0}, connection_failures_{0},
      map_refreshes_{0};

 private:
  static absl::Status SendAsking(RedisConnection& connection);

  const RedisRetryOptions retry_options_;
};

// One Redis server: every slot is served by its pool. A MOVED or ASK from it means it is a
// cluster node: FAILED_PRECONDITION ("use --redis-cluster").
class SingleRedisTopology : public RedisTopology {
 public:
  SingleRedisTopology(RedisEndpoint endpoint, int pool_size, absl::Duration connect_timeout,
                      absl::Duration command_timeout, RedisRetryOptions retry_options = {});

  absl::StatusOr<Lease> Acquire(int slot) override;
  absl::Status ForEachMaster(absl::FunctionRef<absl::Status(RedisConnection&)> fn) override;
  std::vector<std::string> Masters() override { return {node_}; }
  std::string MasterOf(int) override { return node_; }

 protected:
  absl::StatusOr<Lease> AcquireNode(const std::string& node) override;
  absl::Status OnMoved(int slot, const std::string& node) override;
  void OnTopologyDoubt(const std::string& node) override;

 private:
  RedisPool pool_;
  const std::string node_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_STORE_REDIS_TOPOLOGY_H_
