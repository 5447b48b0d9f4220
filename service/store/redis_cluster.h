// A Redis Cluster router: which master serves each of the 16384 slots, a connection pool per
// master, and what to do when the cluster changes (see docs/DESIGN.md, "Redis Cluster routing").
//
// The slot map is read with CLUSTER SHARDS (Redis 7), or CLUSTER SLOTS from older servers, from
// the first node that answers: masters first, then replicas and masters without slots, then
// the seeds; nodes that just failed are asked last. It is read again, at most once per
// `min_refresh_interval` and by one thread at a time (the others keep using the map they have):
// after a MOVED (the moved slot is updated at once), a CLUSTERDOWN or READONLY, a slot that no
// master serves, and a connection failure. Pools are made for every node that ever served a
// slot and kept for the router's lifetime (a lease points into its pool); idle connections of
// a node that failed are closed.
#ifndef HUBSTATS_SERVICE_STORE_REDIS_CLUSTER_H_
#define HUBSTATS_SERVICE_STORE_REDIS_CLUSTER_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "store/redis_client.h"
#include "store/redis_topology.h"

namespace hubstats {

// `--redis-cluster`: comma-separated seeds, each `host:port` or a redis:// URL as ParseRedisUrl
// takes it (`redis://[[username]:password@]host[:port]`). Credentials given on any seed apply to
// every node of the cluster; the database must be 0 (a cluster has no other). INVALID_ARGUMENT
// naming the bad seed, with its password masked, for anything else (also for seeds with
// different credentials).
absl::StatusOr<std::vector<RedisEndpoint>> ParseClusterSeeds(absl::string_view seeds);

// Which master serves each slot, at one moment.
struct ClusterSlotMap {
  std::vector<std::string> masters;      // "host:port" of each master serving slots.
  std::vector<std::string> other_nodes;  // Replicas and masters without slots.
  std::vector<int> slot_master;          // Per slot: index into `masters`, -1 when unserved.

  int UnservedSlots() const;
};
// Parse replies of CLUSTER SHARDS and CLUSTER SLOTS. `asked_host` is the host of the node that
// answered: an empty or NULL endpoint means "the host you asked". DATA_LOSS for a malformed
// reply (a slot out of range or served twice, a shard without a master); FAILED_PRECONDITION
// for an error reply.
absl::StatusOr<ClusterSlotMap> ParseClusterShards(const RedisReply& reply,
                                                  absl::string_view asked_host);
absl::StatusOr<ClusterSlotMap> ParseClusterSlots(const RedisReply& reply,
                                                 absl::string_view asked_host);

struct RedisClusterOptions {
  std::vector<RedisEndpoint> seeds;  // From ParseClusterSeeds; at least one.
  int pool_size = 8;                 // Connections per master.
  absl::Duration connect_timeout = absl::Seconds(1);
  absl::Duration command_timeout = absl::Seconds(5);
  absl::Duration min_refresh_interval = absl::Milliseconds(100);
  RedisRetryOptions retry;
};

class RedisCluster : public RedisTopology {
 public:
  // Reads the slot map. UNAVAILABLE when no seed answers; FAILED_PRECONDITION when a seed is
  // not in cluster mode; INVALID_ARGUMENT for bad options.
  static absl::StatusOr<std::unique_ptr<RedisCluster>> Connect(RedisClusterOptions options);

  absl::StatusOr<Lease> Acquire(int slot) override;
  absl::Status ForEachMaster(absl::FunctionRef<absl::Status(RedisConnection&)> fn) override;
  std::vector<std::string> Masters() override;

  // Reads the slot map now, whatever the interval. UNAVAILABLE when no node answers; the
  // previous map stays in use.
  absl::Status Refresh();
  std::string MasterOf(int slot) override;

 protected:
  absl::StatusOr<Lease> AcquireNode(const std::string& node) override;
  absl::Status OnMoved(int slot, const std::string& node) override;
  void OnTopologyDoubt(const std::string& node) override;

 private:
  struct Node {
    Node(std::string address, const RedisEndpoint& endpoint, const RedisClusterOptions& options)
        : address(std::move(address)),
          pool(endpoint, options.pool_size, options.connect_timeout, options.command_timeout) {}
    const std::string address;
    RedisPool pool;
  };

  explicit RedisCluster(RedisClusterOptions options);
  RedisEndpoint EndpointOf(absl::string_view address) const;
  // The node for `address`, made on first use. Needs map_mutex_ held exclusively.
  absl::StatusOr<Node*> NodeLocked(const std::string& address);
  absl::StatusOr<Lease> AcquireFrom(Node& node);
  // Refreshes when one is wanted and the interval has passed, unless another thread is at it.
  void MaybeRefresh();
  absl::Status RefreshLocked();  // Needs refresh_mutex_.
  absl::StatusOr<ClusterSlotMap> ReadMap(const std::string& address) const;

  const RedisClusterOptions options_;

  std::shared_mutex map_mutex_;  // Guards the members below it, up to refresh_mutex_.
  absl::flat_hash_map<std::string, std::unique_ptr<Node>> nodes_;
  std::vector<Node*> slot_nodes_;              // kRedisClusterSlots entries; null when unserved.
  std::vector<std::string> masters_;           // In slot order.
  std::vector<std::string> others_;            // Replicas and masters without slots.
  absl::flat_hash_set<std::string> suspects_;  // Failed since the last refresh.

  std::mutex refresh_mutex_;                        // One refresh at a time.
  absl::Time last_refresh_ = absl::InfinitePast();  // Guarded by refresh_mutex_.
  std::atomic<bool> refresh_wanted_{false};
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_STORE_REDIS_CLUSTER_H_
