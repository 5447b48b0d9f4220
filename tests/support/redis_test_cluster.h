// A real Redis Cluster for tests: masters and replicas as redis-server child processes on free
// loopback ports, joined by `redis-cli --cluster create`.
#ifndef HUBSTATS_TESTS_SUPPORT_REDIS_TEST_CLUSTER_H_
#define HUBSTATS_TESTS_SUPPORT_REDIS_TEST_CLUSTER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "redis_server.h"

namespace hubstats::test_support {

// One line of CLUSTER NODES: "<id> <ip:port@bus> <flags> <master id|-> <ping> <pong> <epoch>
// <link> <slot ranges...>".
struct ClusterNodeLine {
  std::string id;
  std::string address;  // "ip:port"
  int port = 0;
  bool master = false;                     // Flags hold "master".
  bool failed = false;                     // Flags hold "fail" (not "fail?").
  std::string master_id;                   // Replicas: their master's id.
  std::vector<std::pair<int, int>> slots;  // Ranges served; migration markers left out.
};
std::vector<ClusterNodeLine> ParseClusterNodes(const std::string& text);

class RedisTestCluster {
 public:
  struct Options {
    int masters = 3;
    int replicas_per_master = 1;
    // How long a node may be unreachable before it is failed over; small so tests are quick.
    int node_timeout_ms = 1000;
  };

  // Starts the nodes, creates the cluster and waits until every node says cluster_state:ok,
  // they agree on the slots and every replica is in sync. Aborts the test binary when that
  // fails (a cluster is a hard requirement of the tests using one).
  explicit RedisTestCluster(Options options);
  RedisTestCluster() : RedisTestCluster(Options{}) {}
  ~RedisTestCluster();
  RedisTestCluster(const RedisTestCluster&) = delete;
  RedisTestCluster& operator=(const RedisTestCluster&) = delete;

  int size() const { return static_cast<int>(nodes_.size()); }
  int port(int node) const { return nodes_[node].port; }
  // "127.0.0.1:<port>" of one node, or of all for `--redis-cluster`.
  std::string address(int node) const { return "127.0.0.1:" + std::to_string(port(node)); }
  std::string seeds() const;
  bool running(int node) const { return nodes_[node].process != nullptr; }
  // The node listening on `port`, or -1.
  int NodeOnPort(int port) const;

  // redis-cli against one node (stdout and stderr), and `redis-cli --cluster <args>`.
  std::string Cli(int node, const std::string& args) const;
  std::string ClusterCli(const std::string& args) const;
  // CLUSTER NODES as `node` sees it.
  std::vector<ClusterNodeLine> Nodes(int node) const;
  // The nodes that serve slots, as `node` sees them.
  std::vector<ClusterNodeLine> Masters(int node) const;
  // Moves `slots` slots from master `from` to master `to` (redis-cli --cluster reshard, which
  // migrates their keys); returns redis-cli's output.
  std::string Reshard(const ClusterNodeLine& from, const ClusterNodeLine& to, int slots) const;

  // kill -9 of one node.
  void Kill(int node);
  // Waits until every running node says cluster_state:ok, they agree on who serves which
  // slots, no master that serves slots is failed, and every master's replicas that run are in
  // sync. False after `timeout_ms`.
  bool WaitUntilStable(int timeout_ms);

 private:
  struct Node {
    int port = 0;
    int bus_port = 0;
    std::string directory;
    std::unique_ptr<ChildProcess> process;
  };
  bool StartNode(Node& node) const;

  Options options_;
  std::string directory_;
  std::vector<Node> nodes_;
};

}  // namespace hubstats::test_support

#endif  // HUBSTATS_TESTS_SUPPORT_REDIS_TEST_CLUSTER_H_
