// RedisCluster's parts that need no server: seed parsing, and slot maps from CLUSTER SHARDS and
// CLUSTER SLOTS replies recorded from a real Redis 7.0 cluster (testdata/), checked against the
// CLUSTER NODES text recorded at the same moment. redis_cluster_live_test.cc runs a cluster.
#include "store/redis_cluster.h"

#include <map>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "redis_test_cluster.h"
#include "store/redis_test_replies.h"

namespace hubstats {
namespace {

using ::testing::HasSubstr;
using ::testing::IsSubsetOf;
using ::testing::Not;
using ::testing::UnorderedElementsAreArray;

TEST(ParseClusterSeedsTest, AcceptsHostPortsAndUrls) {
  absl::StatusOr<std::vector<RedisEndpoint>> seeds =
      ParseClusterSeeds("127.0.0.1:7000, redis://10.0.0.2:7001,cache-3");
  ASSERT_TRUE(seeds.ok()) << seeds.status();
  ASSERT_EQ(seeds->size(), 3u);
  EXPECT_EQ((*seeds)[0].host, "127.0.0.1");
  EXPECT_EQ((*seeds)[0].port, 7000);
  EXPECT_EQ((*seeds)[1].host, "10.0.0.2");
  EXPECT_EQ((*seeds)[1].port, 7001);
  EXPECT_EQ((*seeds)[2].host, "cache-3");
  EXPECT_EQ((*seeds)[2].port, 6379);
  for (const RedisEndpoint& seed : *seeds) EXPECT_TRUE(seed.password.empty());
}

TEST(ParseClusterSeedsTest, CredentialsOfOneSeedApplyToAll) {
  absl::StatusOr<std::vector<RedisEndpoint>> seeds =
      ParseClusterSeeds("a:1,redis://app:s3cr:et@b:2,redis://app:s3cr:et@c:3");
  ASSERT_TRUE(seeds.ok()) << seeds.status();
  ASSERT_EQ(seeds->size(), 3u);
  for (const RedisEndpoint& seed : *seeds) {
    EXPECT_EQ(seed.username, "app") << seed.host;
    EXPECT_EQ(seed.password, "s3cr:et") << seed.host;
  }
  absl::StatusOr<std::vector<RedisEndpoint>> password_only = ParseClusterSeeds(":pw@a:1");
  ASSERT_TRUE(password_only.ok()) << password_only.status();
  EXPECT_EQ(password_only->front().password, "pw");
  EXPECT_EQ(password_only->front().username, "");
}

TEST(ParseClusterSeedsTest, NamesTheBadSeedWithoutItsPassword) {
  struct Case {
    const char* seeds;
    const char* names;  // In the message.
    const char* says;   // In the message.
  };
  for (const Case& c : {
           Case{"", "seed 1", "is empty"},
           Case{"a:1,,b:2", "seed 2", "is empty"},
           Case{"a:1, b:0", "seed 2", "port must be 1-65535"},
           Case{"a:1,redis://u:hunter2@b:99999", "seed 2", "port must be 1-65535"},
           Case{"redis://u:hunter2@a:1/3", "seed 1", "only database 0"},
           Case{"hunter2@a:1", "seed 1", "credentials must be"},
           Case{"http://u:hunter2@a:1", "seed 1", "expected host:port"},
           Case{"redis://u:hunter2@a:1,redis://u:other@b:2", "seeds 1 and 2",
                "different credentials"},
       }) {
    absl::StatusOr<std::vector<RedisEndpoint>> seeds = ParseClusterSeeds(c.seeds);
    ASSERT_EQ(seeds.status().code(), absl::StatusCode::kInvalidArgument) << c.seeds;
    EXPECT_THAT(seeds.status().message(), HasSubstr(c.names)) << c.seeds;
    EXPECT_THAT(seeds.status().message(), HasSubstr(c.says)) << c.seeds;
    EXPECT_THAT(seeds.status().message(), Not(HasSubstr("hunter2"))) << c.seeds;
    EXPECT_THAT(seeds.status().message(), Not(HasSubstr("other"))) << c.seeds;
  }
}

// The cluster as the CLUSTER NODES text recorded with the replies describes it.
struct NodesText {
  std::map<int, std::string> slot_owner;  // Slot -> "ip:port".
  std::set<std::string> masters, others;  // Serving slots, or not.
};

NodesText ParseNodesText(const std::string& text) {
  NodesText nodes;
  for (const test_support::ClusterNodeLine& line : test_support::ParseClusterNodes(text)) {
    for (auto [first, last] : line.slots) {
      for (int slot = first; slot <= last; ++slot) nodes.slot_owner[slot] = line.address;
    }
    (line.slots.empty() ? nodes.others : nodes.masters).insert(line.address);
  }
  return nodes;
}

// CLUSTER SHARDS lists every node; CLUSTER SLOTS only the replicas that are in sync and no
// master without slots, so its other nodes are a subset.
enum class Others { kAll, kSome };

void ExpectMapMatches(const ClusterSlotMap& map, const NodesText& nodes, Others others,
                      const char* what) {
  EXPECT_THAT(map.masters, UnorderedElementsAreArray(nodes.masters)) << what;
  if (others == Others::kAll) {
    EXPECT_THAT(map.other_nodes, UnorderedElementsAreArray(nodes.others)) << what;
  } else {
    EXPECT_THAT(map.other_nodes, IsSubsetOf(nodes.others)) << what;
  }
  ASSERT_EQ(map.slot_master.size(), static_cast<size_t>(kRedisClusterSlots)) << what;
  EXPECT_EQ(nodes.slot_owner.size(), static_cast<size_t>(kRedisClusterSlots)) << what;
  int mismatches = 0;
  for (int slot = 0; slot < kRedisClusterSlots; ++slot) {
    const int master = map.slot_master[slot];
    const std::string served_by = master < 0 ? "" : map.masters[master];
    auto owner = nodes.slot_owner.find(slot);
    if (owner == nodes.slot_owner.end() || served_by != owner->second) {
      if (++mismatches <= 5) ADD_FAILURE() << what << ": slot " << slot << " -> " << served_by;
    }
  }
  EXPECT_EQ(mismatches, 0) << what;
  EXPECT_EQ(map.UnservedSlots(), 0) << what;
  // Masters are numbered in slot order.
  std::vector<int> first_slots;
  for (size_t m = 0; m < map.masters.size(); ++m) {
    auto it = std::find(map.slot_master.begin(), map.slot_master.end(), static_cast<int>(m));
    first_slots.push_back(static_cast<int>(it - map.slot_master.begin()));
  }
  EXPECT_TRUE(std::is_sorted(first_slots.begin(), first_slots.end())) << what;
}

TEST(ClusterSlotMapTest, RecordedHealthyCluster) {
  const NodesText nodes = ParseNodesText(testdata::File("initial_cluster_nodes.txt"));
  ASSERT_EQ(nodes.masters.size(), 3u);
  ASSERT_EQ(nodes.others.size(), 3u);
  absl::StatusOr<ClusterSlotMap> shards =
      ParseClusterShards(testdata::Replies("initial_cluster_shards.resp").at(0), "unused");
  ASSERT_TRUE(shards.ok()) << shards.status();
  ExpectMapMatches(*shards, nodes, Others::kAll, "CLUSTER SHARDS");
  absl::StatusOr<ClusterSlotMap> slots =
      ParseClusterSlots(testdata::Replies("initial_cluster_slots.resp").at(0), "unused");
  ASSERT_TRUE(slots.ok()) << slots.status();
  ExpectMapMatches(*slots, nodes, Others::kSome, "CLUSTER SLOTS");
}

TEST(ClusterSlotMapTest, RecordedAfterReshardAndFailover) {
  // Slots moved between masters (a master with three ranges), then a master killed and its
  // replica promoted: the dead master is listed with no slots.
  const NodesText nodes = ParseNodesText(testdata::File("failover_cluster_nodes.txt"));
  ASSERT_EQ(nodes.masters.size(), 3u);
  ASSERT_EQ(nodes.others.size(), 3u);
  absl::StatusOr<ClusterSlotMap> shards =
      ParseClusterShards(testdata::Replies("failover_cluster_shards.resp").at(0), "unused");
  ASSERT_TRUE(shards.ok()) << shards.status();
  ExpectMapMatches(*shards, nodes, Others::kAll, "CLUSTER SHARDS");
  absl::StatusOr<ClusterSlotMap> slots =
      ParseClusterSlots(testdata::Replies("failover_cluster_slots.resp").at(0), "unused");
  ASSERT_TRUE(slots.ok()) << slots.status();
  ExpectMapMatches(*slots, nodes, Others::kSome, "CLUSTER SLOTS");
}

// Hand-written replies in the recorded shapes, for the cases a healthy loopback cluster does
// not produce.
std::string Shard(const std::string& slots, const std::string& nodes, int slot_items,
                  int node_count) {
  return "*4\r\n$5\r\nslots\r\n*" + std::to_string(slot_items) + "\r\n" + slots +
         "$5\r\nnodes\r\n*" + std::to_string(node_count) + "\r\n" + nodes;
}
std::string ShardNode(const std::string& endpoint, const std::string& ip, int port,
                      const std::string& role) {
  auto bulk = [](const std::string& s) {
    return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
  };
  return "*10\r\n" + bulk("id") + bulk("abc") + bulk("port") + ":" + std::to_string(port) + "\r\n" +
         bulk("ip") + bulk(ip) + bulk("endpoint") +
         (endpoint == "NULL" ? std::string("$-1\r\n") : bulk(endpoint)) + bulk("role") + bulk(role);
}

TEST(ClusterSlotMapTest, EndpointsUnknownOrSameHost) {
  // "?" (unknown endpoint) falls back to the IP; an empty or NULL endpoint is the asked host.
  const std::string reply =
      "*3\r\n" + Shard(":0\r\n:99\r\n", ShardNode("?", "10.0.0.1", 7000, "master"), 2, 1) +
      Shard(":100\r\n:199\r\n", ShardNode("", "10.0.0.2", 7001, "master"), 2, 1) +
      Shard(":200\r\n:16383\r\n",
            ShardNode("NULL", "10.0.0.3", 7002, "master") +
                ShardNode("replica.example", "10.0.0.4", 7003, "replica"),
            2, 2);
  absl::StatusOr<ClusterSlotMap> map =
      ParseClusterShards(testdata::ParseReplies(reply).at(0), "seed.example");
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->masters,
            (std::vector<std::string>{"10.0.0.1:7000", "seed.example:7001", "seed.example:7002"}));
  EXPECT_EQ(map->other_nodes, std::vector<std::string>{"replica.example:7003"});
  EXPECT_EQ(map->slot_master[99], 0);
  EXPECT_EQ(map->slot_master[100], 1);
  EXPECT_EQ(map->slot_master[16383], 2);
}

TEST(ClusterSlotMapTest, PartialAndMalformedMaps) {
  // A slot range nobody serves (a CLUSTERDOWN cluster) parses, with the gap unserved.
  absl::StatusOr<ClusterSlotMap> partial = ParseClusterShards(
      testdata::ParseReplies("*1\r\n" +
                             Shard(":0\r\n:9\r\n", ShardNode("h", "h", 1, "master"), 2, 1))
          .at(0),
      "h");
  ASSERT_TRUE(partial.ok()) << partial.status();
  EXPECT_EQ(partial->UnservedSlots(), kRedisClusterSlots - 10);
  EXPECT_EQ(partial->slot_master[10], -1);

  struct Case {
    std::string reply;
    absl::StatusCode code;
  };
  const std::string master_a = ShardNode("a", "a", 1, "master");
  const std::string master_b = ShardNode("b", "b", 2, "master");
  for (const Case& c : {
           Case{"-ERR This instance has cluster support disabled\r\n",
                absl::StatusCode::kFailedPrecondition},
           Case{":1\r\n", absl::StatusCode::kDataLoss},
           // The same slot served by two masters.
           Case{"*2\r\n" + Shard(":0\r\n:10\r\n", master_a, 2, 1) +
                    Shard(":10\r\n:20\r\n", master_b, 2, 1),
                absl::StatusCode::kDataLoss},
           Case{"*1\r\n" + Shard(":0\r\n:16384\r\n", master_a, 2, 1), absl::StatusCode::kDataLoss},
           Case{"*1\r\n" + Shard(":5\r\n:4\r\n", master_a, 2, 1), absl::StatusCode::kDataLoss},
           Case{"*1\r\n" + Shard(":0\r\n", master_a, 1, 1), absl::StatusCode::kDataLoss},
           // Slots without a master.
           Case{"*1\r\n" + Shard(":0\r\n:1\r\n", ShardNode("a", "a", 1, "replica"), 2, 1),
                absl::StatusCode::kDataLoss},
           Case{"*1\r\n" + Shard(":0\r\n:1\r\n", ShardNode("a", "a", 0, "master"), 2, 1),
                absl::StatusCode::kDataLoss},
       }) {
    EXPECT_EQ(ParseClusterShards(testdata::ParseReplies(c.reply).at(0), "h").status().code(),
              c.code)
        << c.reply;
  }
  for (const Case& c : {
           Case{"-ERR This instance has cluster support disabled\r\n",
                absl::StatusCode::kFailedPrecondition},
           Case{"*1\r\n*2\r\n:0\r\n:1\r\n", absl::StatusCode::kDataLoss},
           Case{"*1\r\n*3\r\n:0\r\n:1\r\n*1\r\n$1\r\na\r\n", absl::StatusCode::kDataLoss},
           Case{"*2\r\n*3\r\n:0\r\n:5\r\n*2\r\n$1\r\na\r\n:1\r\n"
                "*3\r\n:5\r\n:9\r\n*2\r\n$1\r\nb\r\n:1\r\n",
                absl::StatusCode::kDataLoss},
       }) {
    EXPECT_EQ(ParseClusterSlots(testdata::ParseReplies(c.reply).at(0), "h").status().code(), c.code)
        << c.reply;
  }
}

}  // namespace
}  // namespace hubstats
