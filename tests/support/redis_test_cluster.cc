#include "redis_test_cluster.h"

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>
#include <utility>

namespace hubstats::test_support {
namespace {

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

}  // namespace

std::vector<ClusterNodeLine> ParseClusterNodes(const std::string& text) {
  std::vector<ClusterNodeLine> nodes;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const std::vector<std::string> fields = Words(line);
    if (fields.size() < 8) continue;
    ClusterNodeLine& node = nodes.emplace_back();
    node.id = fields[0];
    node.address = fields[1].substr(0, fields[1].find('@'));
    node.port = std::atoi(node.address.substr(node.address.rfind(':') + 1).c_str());
    const std::string flags = "," + fields[2] + ",";
    node.master = flags.find(",master,") != std::string::npos;
    node.failed = flags.find(",fail,") != std::string::npos;
    if (fields[3] != "-") node.master_id = fields[3];
    for (size_t i = 8; i < fields.size(); ++i) {
      if (fields[i].front() == '[') continue;  // "[slot->-id]": a migration in progress.
      const size_t dash = fields[i].find('-');
      const int first = std::atoi(fields[i].substr(0, dash).c_str());
      const int last =
          dash == std::string::npos ? first : std::atoi(fields[i].substr(dash + 1).c_str());
      node.slots.emplace_back(first, last);
    }
  }
  return nodes;
}

RedisTestCluster::RedisTestCluster(Options options) : options_(options) {
  char pattern[] = "/tmp/hubstats-cluster-XXXXXX";
  if (mkdtemp(pattern) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  directory_ = pattern;
  nodes_.resize(options.masters * (1 + options.replicas_per_master));
  std::string addresses;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    nodes_[i].directory = directory_ + "/" + std::to_string(i);
    std::filesystem::create_directory(nodes_[i].directory);
    bool started = false;
    for (int attempt = 0; attempt < 5 && !started; ++attempt) started = StartNode(nodes_[i]);
    if (!started) {
      std::fprintf(stderr, "could not start redis-server; see %s\n", directory_.c_str());
      std::abort();
    }
    addresses += " " + address(static_cast<int>(i));
  }
  const std::string created =
      ClusterCli("create" + addresses + " --cluster-replicas " +
                 std::to_string(options.replicas_per_master) + " --cluster-yes");
  if (created.find("All 16384 slots covered") == std::string::npos || !WaitUntilStable(30000)) {
    std::fprintf(stderr, "could not create the redis cluster:\n%s\n", created.c_str());
    std::abort();
  }
}

bool RedisTestCluster::StartNode(Node& node) const {
  // The cluster bus gets its own free port (the default, port + 10000, may be taken or > 65535).
  node.port = FreeLoopbackPort();
  node.bus_port = FreeLoopbackPort();
  node.process = ChildProcess::Start(
      {"redis-server", "--bind", "127.0.0.1", "--port", std::to_string(node.port), "--cluster-port",
       std::to_string(node.bus_port), "--cluster-enabled", "yes", "--cluster-config-file",
       "nodes.conf", "--cluster-node-timeout", std::to_string(options_.node_timeout_ms),
       // Promote a replica however long it was cut off: tests kill masters on purpose.
       "--cluster-replica-validity-factor", "0", "--dir", node.directory, "--save", "",
       "--appendonly", "no", "--protected-mode", "no",
       // Replicas sync at once (the default waits 5 s for more replicas to share the transfer).
       "--repl-diskless-sync-delay", "0"},
      node.directory + "/redis.log");
  if (WaitForPort(node.port, 5000) && node.process->running()) return true;
  node.process.reset();
  return false;
}

RedisTestCluster::~RedisTestCluster() {
  nodes_.clear();  // Kills the processes.
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

std::string RedisTestCluster::seeds() const {
  std::string seeds;
  for (int i = 0; i < size(); ++i) seeds += (i ? "," : "") + address(i);
  return seeds;
}

int RedisTestCluster::NodeOnPort(int port) const {
  for (int i = 0; i < size(); ++i) {
    if (nodes_[i].port == port) return i;
  }
  return -1;
}

std::string RedisTestCluster::Cli(int node, const std::string& args) const {
  return ShellOutput("redis-cli -h 127.0.0.1 -p " + std::to_string(port(node)) + " " + args +
                     " 2>&1");
}

std::string RedisTestCluster::ClusterCli(const std::string& args) const {
  return ShellOutput("redis-cli --cluster " + args + " 2>&1");
}

std::vector<ClusterNodeLine> RedisTestCluster::Nodes(int node) const {
  return ParseClusterNodes(Cli(node, "cluster nodes"));
}

std::vector<ClusterNodeLine> RedisTestCluster::Masters(int node) const {
  std::vector<ClusterNodeLine> masters;
  for (ClusterNodeLine& line : Nodes(node)) {
    if (!line.slots.empty()) masters.push_back(std::move(line));
  }
  return masters;
}

std::string RedisTestCluster::Reshard(const ClusterNodeLine& from, const ClusterNodeLine& to,
                                      int slots) const {
  return ClusterCli("reshard " + address(0) + " --cluster-from " + from.id + " --cluster-to " +
                    to.id + " --cluster-slots " + std::to_string(slots) + " --cluster-yes");
}

void RedisTestCluster::Kill(int node) {
  nodes_[node].process->Stop(SIGKILL);
  nodes_[node].process.reset();
}

bool RedisTestCluster::WaitUntilStable(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto stable = [&] {
    std::map<std::string, std::vector<std::pair<int, int>>> first_view;
    bool have_view = false;
    for (int i = 0; i < size(); ++i) {
      if (!running(i)) continue;
      if (Cli(i, "cluster info").find("cluster_state:ok") == std::string::npos) return false;
      const std::string replication = Cli(i, "info replication");
      if (replication.find("role:slave") != std::string::npos &&
          replication.find("master_link_status:up") == std::string::npos) {
        return false;
      }
      std::map<std::string, std::vector<std::pair<int, int>>> view;
      for (const ClusterNodeLine& line : Nodes(i)) {
        if (line.slots.empty()) continue;
        if (line.failed) return false;
        view[line.address] = line.slots;
      }
      if (have_view && view != first_view) return false;
      first_view = std::move(view);
      have_view = true;
    }
    return have_view;
  };
  while (std::chrono::steady_clock::now() < deadline) {
    if (stable()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace hubstats::test_support
