// RedisCluster on a live cluster of 3 masters and 3 replicas (tests/support): every slot
// routed, ASK and MOVED followed through a slot migration, `redis-cli --cluster reshard` under
// load with exact counters, a master killed and its replica promoted, and the cost of WAIT.
// Each test starts its own cluster (about 3 s) because each changes the topology.
#include <hiredis/hiredis.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "redis_server.h"
#include "redis_test_cluster.h"
#include "store/redis_cluster.h"
#include "store/redis_topology.h"

namespace hubstats {
namespace {

using test_support::ClusterNodeLine;
using test_support::RedisTestCluster;
using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;

std::unique_ptr<RedisCluster> Connect(const RedisTestCluster& cluster,
                                      RedisRetryOptions retry = {}) {
  RedisClusterOptions options;
  absl::StatusOr<std::vector<RedisEndpoint>> seeds = ParseClusterSeeds(cluster.address(0));
  EXPECT_TRUE(seeds.ok()) << seeds.status();
  options.seeds = *seeds;
  options.retry = retry;
  absl::StatusOr<std::unique_ptr<RedisCluster>> router = RedisCluster::Connect(options);
  EXPECT_TRUE(router.ok()) << router.status();
  return router.ok() ? *std::move(router) : nullptr;
}

// Who serves each slot, as node `asked` says in CLUSTER NODES.
std::vector<std::string> SlotOwners(const RedisTestCluster& cluster, int asked) {
  std::vector<std::string> owners(kRedisClusterSlots);
  for (const ClusterNodeLine& line : cluster.Nodes(asked)) {
    for (auto [first, last] : line.slots) {
      for (int slot = first; slot <= last; ++slot) owners[slot] = line.address;
    }
  }
  return owners;
}

const ClusterNodeLine* NodeByAddress(const std::vector<ClusterNodeLine>& nodes,
                                     const std::string& address) {
  for (const ClusterNodeLine& node : nodes) {
    if (node.address == address) return &node;
  }
  return nullptr;
}

// One key per slot: "t:{<n>}" with the smallest n that lands there.
std::vector<std::string> KeyPerSlot() {
  std::vector<std::string> keys(kRedisClusterSlots);
  int found = 0;
  for (int n = 0; found < kRedisClusterSlots; ++n) {
    const std::string key = absl::StrCat("t:{", n, "}");
    std::string& slot_key = keys[RedisKeySlot(key)];
    if (slot_key.empty()) {
      slot_key = key;
      ++found;
    }
  }
  return keys;
}

absl::Status ExpectOk(const absl::StatusOr<RedisReply>& reply) {
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return absl::InternalError(reply->error());
  return absl::OkStatus();
}

std::string Text(const RedisReply& reply) {
  const redisReply* raw = reply.get();
  if (raw == nullptr) return "<none>";
  if (raw->type == REDIS_REPLY_NIL) return "<nil>";
  if (raw->type == REDIS_REPLY_INTEGER) return absl::StrCat(raw->integer);
  return std::string(raw->str, raw->len);
}

std::string Get(RedisCluster& router, const std::string& key) {
  absl::StatusOr<RedisReply> reply =
      router.Command(RedisKeySlot(key), {"GET", key}, Idempotence::kIdempotent);
  if (!reply.ok()) return reply.status().ToString();
  return Text(*reply);
}

absl::Status Set(RedisCluster& router, const std::string& key, const std::string& value) {
  return ExpectOk(router.Command(RedisKeySlot(key), {"SET", key, value}, Idempotence::kIdempotent));
}

// Reads `count` replies, all of them, and returns them or the first routing status.
absl::StatusOr<std::vector<RedisReply>> ReadAll(RedisConnection& connection, int count) {
  std::vector<RedisReply> replies;
  absl::Status routing;
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<RedisReply> reply = connection.GetReply();
    if (!reply.ok()) return reply.status();
    if (absl::Status status = RoutingStatus(*reply); !status.ok() && routing.ok()) {
      routing = status;
    }
    replies.push_back(*std::move(reply));
  }
  if (!routing.ok()) return routing;
  return replies;
}

// redis-cli on one node with `commands` (one a line) on its standard input.
std::string CliScript(const RedisTestCluster& cluster, int node,
                      const std::vector<std::string>& commands) {
  // A file of its own: ctest runs several of these tests at once.
  std::string file = ::testing::TempDir() + "/redis-commands-XXXXXX";
  const int fd = mkstemp(file.data());
  EXPECT_GE(fd, 0) << file;
  close(fd);
  {
    std::ofstream out(file);
    for (const std::string& command : commands) out << command << "\n";
  }
  std::string output = cluster.Cli(node, "< " + file);
  unlink(file.c_str());
  return output;
}

TEST(RedisClusterLiveTest, RoutesEverySlotToItsMaster) {
  RedisTestCluster cluster;
  std::unique_ptr<RedisCluster> router = Connect(cluster);
  ASSERT_NE(router, nullptr);
  EXPECT_EQ(router->Masters().size(), 3u);

  // The server's own CLUSTER KEYSLOT agrees with RedisKeySlot on one key of every slot.
  const std::vector<std::string> keys = KeyPerSlot();
  std::vector<std::string> commands;
  for (const std::string& key : keys) commands.push_back("CLUSTER KEYSLOT " + key);
  const std::vector<std::string> answers =
      absl::StrSplit(CliScript(cluster, 0, commands), '\n', absl::SkipEmpty());
  ASSERT_EQ(answers.size(), keys.size());
  for (int slot = 0; slot < kRedisClusterSlots; ++slot) {
    ASSERT_EQ(answers[slot], absl::StrCat(slot)) << keys[slot];
  }

  // The map equals CLUSTER NODES.
  const std::vector<std::string> owners = SlotOwners(cluster, 0);
  for (int slot = 0; slot < kRedisClusterSlots; ++slot) {
    ASSERT_EQ(router->MasterOf(slot), owners[slot]) << slot;
  }

  // A write and a read of every slot, from four threads, go straight to the right master.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int lane = 0; lane < 4; ++lane) {
    threads.emplace_back([&, lane] {
      for (int slot = lane; slot < kRedisClusterSlots; slot += 4) {
        if (!Set(*router, keys[slot], absl::StrCat(slot)).ok()) ++failures;
        if (Get(*router, keys[slot]) != absl::StrCat(slot)) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  const RedisTopology::Stats stats = router->stats();
  EXPECT_EQ(stats.moved, 0);
  EXPECT_EQ(stats.asked, 0);
  EXPECT_EQ(stats.connection_failures, 0);

  // Each master holds exactly the keys of its slots.
  for (int node = 0; node < cluster.size(); ++node) {
    const std::string address = cluster.address(node);
    const int64_t served = std::count(owners.begin(), owners.end(), address);
    if (served == 0) continue;  // A replica.
    int64_t keys_held = 0;
    ASSERT_TRUE(
        absl::SimpleAtoi(absl::StripAsciiWhitespace(cluster.Cli(node, "dbsize")), &keys_held));
    EXPECT_EQ(keys_held, served) << address;
  }

  // ForEachMaster reaches the three masters once each.
  std::vector<std::string> reached;
  ASSERT_TRUE(
      router
          ->ForEachMaster([&](RedisConnection& connection) -> absl::Status {
            absl::StatusOr<RedisReply> port = connection.Command({"CONFIG", "GET", "port"});
            if (!port.ok()) return port.status();
            const redisReply* raw = port->get();
            if (raw->type != REDIS_REPLY_ARRAY || raw->elements != 2) {
              return absl::InternalError("CONFIG GET port");
            }
            reached.push_back(absl::StrCat(
                "127.0.0.1:", absl::string_view(raw->element[1]->str, raw->element[1]->len)));
            return absl::OkStatus();
          })
          .ok());
  std::vector<std::string> masters = router->Masters();
  std::sort(masters.begin(), masters.end());
  std::sort(reached.begin(), reached.end());
  EXPECT_EQ(reached, masters);

  // A single-Redis topology pointed at a cluster node is told so by the first MOVED.
  SingleRedisTopology single(ParseRedisUrl("redis://" + cluster.address(0)).value(), 2,
                             absl::Seconds(1), absl::Seconds(5));
  int elsewhere = 0;
  while (owners[elsewhere] == cluster.address(0)) ++elsewhere;
  absl::StatusOr<RedisReply> refused =
      single.Command(elsewhere, {"GET", keys[elsewhere]}, Idempotence::kIdempotent);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr("--redis-cluster"));
}

TEST(RedisClusterLiveTest, ConnectNeedsAReachableClusterNode) {
  test_support::RedisServer plain;
  RedisClusterOptions options;
  options.seeds = ParseClusterSeeds(absl::StrCat("127.0.0.1:", plain.port())).value();
  absl::StatusOr<std::unique_ptr<RedisCluster>> not_cluster = RedisCluster::Connect(options);
  EXPECT_EQ(not_cluster.status().code(), absl::StatusCode::kFailedPrecondition)
      << not_cluster.status();
  EXPECT_THAT(not_cluster.status().message(), HasSubstr("cluster support disabled"));

  options.seeds = ParseClusterSeeds(absl::StrCat("127.0.0.1:", test_support::FreeLoopbackPort(),
                                                 ",127.0.0.1:", test_support::FreeLoopbackPort()))
                      .value();
  absl::StatusOr<std::unique_ptr<RedisCluster>> nobody = RedisCluster::Connect(options);
  EXPECT_EQ(nobody.status().code(), absl::StatusCode::kUnavailable) << nobody.status();
}

TEST(SingleRedisTopologyTest, EverySlotIsTheOneServer) {
  test_support::RedisServer plain;
  SingleRedisTopology single(ParseRedisUrl(plain.url()).value(), 2, absl::Seconds(1),
                             absl::Seconds(5));
  EXPECT_EQ(single.Masters(), std::vector<std::string>{absl::StrCat("127.0.0.1:", plain.port())});
  for (const std::string key : {"a", "{b}:c", "hs:{15}:catalog"}) {
    ASSERT_TRUE(
        ExpectOk(single.Command(RedisKeySlot(key), {"SET", key, key}, Idempotence::kIdempotent))
            .ok());
  }
  EXPECT_EQ(plain.Cli("mget a {b}:c hs:{15}:catalog"), "a\n{b}:c\nhs:{15}:catalog\n");
  int calls = 0;
  EXPECT_TRUE(single
                  .ForEachMaster([&](RedisConnection&) {
                    ++calls;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(calls, 1);
  // An error reply that is not routing comes back as the reply, without retries.
  absl::StatusOr<RedisReply> wrong =
      single.Command(RedisKeySlot("a"), {"LPUSH", "a", "x"}, Idempotence::kNotIdempotent);
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_THAT(wrong->error(), HasSubstr("WRONGTYPE"));
  EXPECT_EQ(single.stats().retried, 0);
}

// The migration redis-cli performs, step by step, so each redirect is seen at a known moment.
TEST(RedisClusterLiveTest, FollowsAskAndMovedThroughASlotMigration) {
  RedisTestCluster cluster;
  RedisRetryOptions retry;
  retry.budget = absl::Milliseconds(300);  // For the request that can only be refused.
  std::unique_ptr<RedisCluster> router = Connect(cluster, retry);
  ASSERT_NE(router, nullptr);
  const int slot = RedisKeySlot("{m}");
  const std::vector<ClusterNodeLine> nodes = cluster.Nodes(0);
  const std::string source_address = SlotOwners(cluster, 0)[slot];
  const ClusterNodeLine* source = NodeByAddress(nodes, source_address);
  ASSERT_NE(source, nullptr);
  const ClusterNodeLine* target = nullptr;
  for (const ClusterNodeLine& node : nodes) {
    if (!node.slots.empty() && node.address != source_address) target = &node;
  }
  ASSERT_NE(target, nullptr);
  const int source_node = cluster.NodeOnPort(source->port);
  const int target_node = cluster.NodeOnPort(target->port);

  ASSERT_TRUE(Set(*router, "{m}:present", "1").ok());
  ASSERT_THAT(
      cluster.Cli(target_node, absl::StrCat("cluster setslot ", slot, " importing ", source->id)),
      HasSubstr("OK"));
  ASSERT_THAT(
      cluster.Cli(source_node, absl::StrCat("cluster setslot ", slot, " migrating ", target->id)),
      HasSubstr("OK"));

  // A key still on the source is served there.
  EXPECT_EQ(Get(*router, "{m}:present"), "1");
  EXPECT_EQ(router->stats().asked, 0);
  // A key the source does not have: ASK, then ASKING and the command on the target.
  ASSERT_TRUE(Set(*router, "{m}:fresh", "2").ok());
  EXPECT_EQ(router->stats().asked, 1);
  EXPECT_EQ(CliScript(cluster, target_node, {"ASKING", "GET {m}:fresh"}), "OK\n2\n");
  // A transaction: the source refuses the queued command, EXEC aborts, and the whole sequence
  // goes to the target after ASKING (which lasts to EXEC).
  std::vector<RedisReply> exec;
  absl::Status transaction =
      router->Run(slot, Idempotence::kNotIdempotent, [&](RedisConnection& connection) {
        connection.Append({"MULTI"});
        connection.Append({"INCR", "{m}:counter"});
        connection.Append({"EXEC"});
        absl::StatusOr<std::vector<RedisReply>> replies = ReadAll(connection, 3);
        if (!replies.ok()) return replies.status();
        exec = *std::move(replies);
        return absl::OkStatus();
      });
  ASSERT_TRUE(transaction.ok()) << transaction;
  ASSERT_EQ(exec.size(), 3u);
  ASSERT_EQ(exec[2].get()->type, REDIS_REPLY_ARRAY);
  EXPECT_EQ(exec[2].get()->element[0]->integer, 1);
  EXPECT_EQ(router->stats().asked, 2);
  // Keys split between the two nodes: TRYAGAIN until the migration ends; Run gives up.
  const int64_t retried = router->stats().retried;
  absl::StatusOr<RedisReply> split =
      router->Command(slot, {"MGET", "{m}:present", "{m}:fresh"}, Idempotence::kIdempotent);
  EXPECT_TRUE(absl::IsUnavailable(split.status())) << split.status();
  EXPECT_THAT(split.status().message(), HasSubstr("TRYAGAIN"));
  EXPECT_GT(router->stats().retried, retried);

  // Finish the migration: move the last key, then give the slot to the target everywhere.
  ASSERT_THAT(cluster.Cli(source_node, absl::StrCat("migrate 127.0.0.1 ", target->port,
                                                    " \"\" 0 5000 keys {m}:present")),
              HasSubstr("OK"));
  for (int node : {target_node, source_node}) {
    ASSERT_THAT(cluster.Cli(node, absl::StrCat("cluster setslot ", slot, " node ", target->id)),
                HasSubstr("OK"));
  }
  const int64_t moved = router->stats().moved;
  EXPECT_EQ(Get(*router, "{m}:present"), "1");
  EXPECT_GT(router->stats().moved, moved);
  EXPECT_EQ(router->MasterOf(slot), target->address);
  absl::StatusOr<RedisReply> together = router->Command(
      slot, {"MGET", "{m}:present", "{m}:fresh", "{m}:counter"}, Idempotence::kIdempotent);
  ASSERT_TRUE(together.ok()) << together.status();
  ASSERT_EQ(together->get()->elements, 3u);
  EXPECT_EQ(std::string(together->get()->element[0]->str), "1");
  EXPECT_EQ(std::string(together->get()->element[1]->str), "2");
  EXPECT_EQ(std::string(together->get()->element[2]->str), "1");
}

// Transactions on 1000 tags, from three threads, while redis-cli moves 1500 slots between
// masters: every acknowledged transaction is counted once, none is lost or doubled.
TEST(RedisClusterLiveTest, ReshardUnderLoadLosesNothing) {
  RedisTestCluster cluster;
  RedisRetryOptions retry;
  retry.budget = absl::Seconds(20);  // A slot may stay half-moved a while on 2 busy cores.
  retry.max_attempts = 1000;
  std::unique_ptr<RedisCluster> router = Connect(cluster, retry);
  ASSERT_NE(router, nullptr);
  constexpr int kTags = 1000;
  std::vector<std::atomic<int64_t>> acknowledged(kTags);
  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  std::mutex failure_mutex;
  std::string first_failure;
  std::vector<std::thread> writers;
  for (int writer = 0; writer < 3; ++writer) {
    writers.emplace_back([&, writer] {
      std::mt19937 random(writer);
      while (!stop) {
        const int tag = static_cast<int>(random() % kTags);
        const std::string a = absl::StrCat("{r", tag, "}:a"), b = absl::StrCat("{r", tag, "}:b");
        absl::Status status =
            router->Run(RedisKeySlot(a), Idempotence::kNotIdempotent, [&](RedisConnection& c) {
              c.Append({"MULTI"});
              c.Append({"INCRBY", a, "1"});
              c.Append({"INCRBY", b, "1"});
              c.Append({"EXEC"});
              absl::StatusOr<std::vector<RedisReply>> replies = ReadAll(c, 4);
              if (!replies.ok()) return replies.status();
              const redisReply* exec = (*replies)[3].get();
              if (exec->type != REDIS_REPLY_ARRAY || exec->elements != 2) {
                return absl::InternalError(absl::StrCat("EXEC: ", Text((*replies)[3])));
              }
              return absl::OkStatus();
            });
        if (status.ok()) {
          ++acknowledged[tag];
        } else {
          ++failures;
          std::lock_guard lock(failure_mutex);
          if (first_failure.empty()) first_failure = status.ToString();
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::vector<ClusterNodeLine> masters = cluster.Masters(0);
  ASSERT_EQ(masters.size(), 3u);
  const auto started = Clock::now();
  const std::string reshard = cluster.Reshard(masters[0], masters[1], 1500);
  const double reshard_s = std::chrono::duration<double>(Clock::now() - started).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  for (std::thread& writer : writers) writer.join();
  EXPECT_THAT(reshard, HasSubstr("Moving slot"));
  EXPECT_THAT(reshard, Not(HasSubstr("ERR")));

  EXPECT_EQ(failures.load(), 0) << first_failure;
  const RedisTopology::Stats stats = router->stats();
  EXPECT_GT(stats.moved, 0);
  int64_t total = 0;
  for (int tag = 0; tag < kTags; ++tag) {
    const std::string expected =
        acknowledged[tag] ? absl::StrCat(acknowledged[tag].load()) : std::string("<nil>");
    ASSERT_EQ(Get(*router, absl::StrCat("{r", tag, "}:a")), expected) << tag;
    ASSERT_EQ(Get(*router, absl::StrCat("{r", tag, "}:b")), expected) << tag;
    total += acknowledged[tag];
  }
  ASSERT_TRUE(router->Refresh().ok());
  const std::vector<std::string> owners = SlotOwners(cluster, 0);
  EXPECT_EQ(std::count(owners.begin(), owners.end(), masters[1].address), [&] {
    int64_t before = 0;
    for (auto [first, last] : masters[1].slots) before += last - first + 1;
    return before + 1500;
  }());
  for (int slot = 0; slot < kRedisClusterSlots; ++slot) {
    ASSERT_EQ(router->MasterOf(slot), owners[slot]) << slot;
  }
  std::printf(
      "reshard of 1500 slots under load: %.1f s, %lld transactions acknowledged, "
      "moved %lld, ask %lld, retried %lld, map reads %lld\n",
      reshard_s, static_cast<long long>(total), static_cast<long long>(stats.moved),
      static_cast<long long>(stats.asked), static_cast<long long>(stats.retried),
      static_cast<long long>(stats.map_refreshes));
}

// kill -9 of a master while two threads write: its replica is promoted after the node timeout
// (1 s), the router finds it and writes go on. A write whose WAIT saw the replica's copy
// survives; one acknowledged without that may be lost (replication is asynchronous).
TEST(RedisClusterLiveTest, KilledMasterIsReplacedByItsReplica) {
  RedisTestCluster cluster;
  RedisRetryOptions retry;
  retry.budget = absl::Milliseconds(500);  // Fail fast while no master serves; writers go on.
  std::unique_ptr<RedisCluster> router = Connect(cluster, retry);
  ASSERT_NE(router, nullptr);
  const std::vector<std::string> owners = SlotOwners(cluster, 0);
  // Node 0 learns which node replicates which by gossip, which may trail the cluster being
  // stable on a loaded machine: ask until it names the victim's replica.
  std::vector<ClusterNodeLine> nodes;
  const ClusterNodeLine* victim = nullptr;
  const ClusterNodeLine* replica = nullptr;
  for (const auto give_up = Clock::now() + std::chrono::seconds(10);
       replica == nullptr && Clock::now() < give_up;
       std::this_thread::sleep_for(std::chrono::milliseconds(50))) {
    nodes = cluster.Nodes(0);
    victim = NodeByAddress(nodes, owners[RedisKeySlot("{f0}")]);
    ASSERT_NE(victim, nullptr) << cluster.Cli(0, "cluster nodes");
    for (const ClusterNodeLine& node : nodes) {
      if (node.master_id == victim->id) replica = &node;
    }
  }
  ASSERT_NE(replica, nullptr) << "node 0 names no replica of the victim:\n"
                              << cluster.Cli(0, "cluster nodes");

  struct Write {
    std::string key;
    bool on_victim = false;  // In a slot the killed master served.
    bool acknowledged = false;
    int64_t replicas = -1;  // WAIT's answer.
    Clock::time_point started, done;
  };
  std::vector<std::vector<Write>> writes(2);
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int writer = 0; writer < 2; ++writer) {
    writers.emplace_back([&, writer] {
      for (int n = 0; !stop; ++n) {
        Write write;
        write.started = Clock::now();
        write.key = absl::StrCat("{f", n % 200, "}:", writer, ":", n);
        const int slot = RedisKeySlot(write.key);
        write.on_victim = owners[slot] == victim->address;
        absl::Status status = router->Run(slot, Idempotence::kIdempotent, [&](RedisConnection& c) {
          c.Append({"SET", write.key, "v"});
          c.Append({"WAIT", "1", "100"});
          absl::StatusOr<std::vector<RedisReply>> replies = ReadAll(c, 2);
          if (!replies.ok()) return replies.status();
          write.replicas = (*replies)[1].get()->integer;
          return absl::OkStatus();
        });
        write.acknowledged = status.ok();
        write.done = Clock::now();
        writes[writer].push_back(std::move(write));
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  cluster.Kill(cluster.NodeOnPort(victim->port));  // Returns once the process is gone.
  const auto killed = Clock::now();
  const bool promoted = cluster.WaitUntilStable(20000);
  const double failover_s = std::chrono::duration<double>(Clock::now() - killed).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  for (std::thread& writer : writers) writer.join();
  ASSERT_TRUE(promoted);

  // The router moved the victim's slots to the promoted replica by itself.
  EXPECT_EQ(router->MasterOf(RedisKeySlot("{f0}")), replica->address);
  const std::vector<std::string> masters = router->Masters();
  EXPECT_EQ(std::count(masters.begin(), masters.end(), victim->address), 0);
  EXPECT_EQ(std::count(masters.begin(), masters.end(), replica->address), 1);

  int64_t acknowledged = 0, replicated = 0, lost_unreplicated = 0, refused = 0;
  int64_t refused_elsewhere = 0;  // In slots of the masters that stayed up (CLUSTERDOWN).
  int64_t victim_after_kill = 0;
  double resumed_s = -1;
  for (const std::vector<Write>& lane : writes) {
    for (const Write& write : lane) {
      if (!write.acknowledged) {
        ++refused;
        if (!write.on_victim) ++refused_elsewhere;
        continue;
      }
      ++acknowledged;
      const std::string value = Get(*router, write.key);
      if (write.replicas >= 1) {
        ++replicated;
        ASSERT_EQ(value, "v") << write.key << " was acknowledged by WAIT and then lost";
      } else if (value != "v") {
        ASSERT_EQ(value, "<nil>") << write.key;
        ++lost_unreplicated;
      }
      if (write.on_victim && write.started > killed) {
        ++victim_after_kill;
        const double at = std::chrono::duration<double>(write.done - killed).count();
        if (resumed_s < 0 || at < resumed_s) resumed_s = at;
      }
    }
  }
  EXPECT_GT(victim_after_kill, 0) << "no write reached the promoted replica";
  EXPECT_GT(refused, 0) << "the kill went unnoticed";
  const RedisTopology::Stats stats = router->stats();
  EXPECT_GT(stats.connection_failures, 0);
  EXPECT_GT(stats.map_refreshes, 1);
  std::printf(
      "failover: cluster stable %.2f s after kill -9, writes to its slots resumed after "
      "%.2f s; %lld writes acknowledged (%lld confirmed by WAIT 1, %lld acknowledged "
      "without a replica copy and lost), %lld refused (%lld on other masters); connection "
      "failures %lld, moved %lld, retried %lld, map reads %lld\n",
      failover_s, resumed_s, static_cast<long long>(acknowledged),
      static_cast<long long>(replicated), static_cast<long long>(lost_unreplicated),
      static_cast<long long>(refused), static_cast<long long>(refused_elsewhere),
      static_cast<long long>(stats.connection_failures), static_cast<long long>(stats.moved),
      static_cast<long long>(stats.retried), static_cast<long long>(stats.map_refreshes));
}

// What `WAIT 1 <timeout>` adds to a write, measured (reported, not asserted): one write per
// round trip, with and without WAIT, and a pipeline of 10 writes with one WAIT (how a commit
// window would use it). The modes take turns, so load from elsewhere on the machine falls on
// all of them alike.
TEST(RedisClusterLiveTest, MeasuresTheCostOfWait) {
  RedisTestCluster cluster;
  std::unique_ptr<RedisCluster> router = Connect(cluster);
  ASSERT_NE(router, nullptr);
  const int slot = RedisKeySlot("{w}");
  constexpr int kRounds = 2000;
  struct Mode {
    const char* name;
    int writes;
    bool wait;
    std::vector<double> micros;
  };
  std::vector<Mode> modes = {{"1 write", 1, false, {}},
                             {"1 write + WAIT 1 1000", 1, true, {}},
                             {"10 writes", 10, false, {}},
                             {"10 writes + WAIT 1 1000", 10, true, {}}};
  int64_t expected = 0, unconfirmed = 0;
  for (int round = 0; round < kRounds; ++round) {
    for (Mode& mode : modes) {
      const auto start = Clock::now();
      absl::Status status = router->Run(slot, Idempotence::kNotIdempotent, [&](RedisConnection& c) {
        for (int i = 0; i < mode.writes; ++i) c.Append({"INCR", "{w}:counter"});
        if (mode.wait) c.Append({"WAIT", "1", "1000"});
        absl::StatusOr<std::vector<RedisReply>> replies =
            ReadAll(c, mode.writes + (mode.wait ? 1 : 0));
        if (!replies.ok()) return replies.status();
        if (mode.wait && replies->back().get()->integer < 1) ++unconfirmed;
        return absl::OkStatus();
      });
      mode.micros.push_back(
          std::chrono::duration<double, std::micro>(Clock::now() - start).count());
      ASSERT_TRUE(status.ok()) << status;
      expected += mode.writes;
    }
  }
  EXPECT_EQ(unconfirmed, 0);
  for (Mode& mode : modes) {
    std::sort(mode.micros.begin(), mode.micros.end());
    double sum = 0;
    for (double m : mode.micros) sum += m;
    std::printf("%-26s mean %7.1f us  p50 %7.1f us  p99 %7.1f us (%d rounds)\n", mode.name,
                sum / kRounds, mode.micros[kRounds / 2], mode.micros[kRounds * 99 / 100], kRounds);
    ::testing::Test::RecordProperty(absl::StrCat("p50_us ", mode.name),
                                    static_cast<int>(mode.micros[kRounds / 2]));
  }
  EXPECT_EQ(Get(*router, "{w}:counter"), absl::StrCat(expected));
}

}  // namespace
}  // namespace hubstats
