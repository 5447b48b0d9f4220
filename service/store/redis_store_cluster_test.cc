// RedisStore on a live Redis Cluster of 3 masters and 3 replicas that changes under it: shards
// spread over the masters, slots moved by `redis-cli --cluster reshard` while windows are
// applied, a master killed (kill -9) with and without WAIT, and what WAIT costs per window.
// Each test starts its own cluster (about 3 s) because each changes the topology. Every window
// is retried with its identity until it is acknowledged, as the service does, and the facts
// (and the change log replayed from the start) must equal the acknowledged events exactly.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/model_id.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "redis_server.h"
#include "redis_test_cluster.h"
#include "store/redis_cluster.h"
#include "store/redis_store.h"
#include "store/store_test_util.h"

namespace hubstats {
namespace {

using store_testing::Facts;
using store_testing::TestEvent;
using test_support::ClusterNodeLine;
using test_support::RedisTestCluster;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kShards = 16;

std::unique_ptr<RedisStore> OpenOn(const RedisTestCluster& cluster, const std::string& prefix,
                                   int wait_replicas = 0) {
  RedisStoreOptions options;
  options.cluster_seeds = {cluster.seeds()};
  options.key_prefix = prefix;
  options.shard_count = kShards;
  options.wait_replicas = wait_replicas;
  absl::StatusOr<std::unique_ptr<RedisStore>> store = RedisStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

// Random events over 40 authors (so over every shard), 1-3 downloads, a few days.
std::vector<TestEvent> RandomEvents(std::mt19937_64& random, int count) {
  std::vector<TestEvent> events;
  for (int i = 0; i < count; ++i) {
    events.push_back({store_testing::RandomModelId(random, 40, 25),
                      absl::StrCat("2024-09-0", 1 + random() % 3),
                      static_cast<int64_t>(1 + random() % 3), random() % 5 ? "" : "main"});
  }
  return events;
}

// What the acknowledged windows add up to.
class Truth {
 public:
  void Add(const std::vector<TestEvent>& events) {
    std::lock_guard lock(mutex_);
    for (const TestEvent& event : events) {
      all_time_[event.model] += event.count;
      days_[{event.model, event.day}] += event.count;
    }
  }
  // Compares with the store's facts; "" when equal.
  std::string Differences(const Facts& facts) const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& [model, total] : all_time_) {
      auto it = facts.models.find(model);
      const int64_t stored = it == facts.models.end() ? 0 : it->second.all_time;
      if (stored != total) absl::StrAppend(&out, model, ": ", stored, " != ", total, "\n");
    }
    for (const auto& [model, fact] : facts.models) {
      if (!all_time_.contains(model)) absl::StrAppend(&out, model, " was never sent\n");
      for (const auto& [day, downloads] : fact.days) {
        auto it = days_.find({model, day.ToString()});
        if (it == days_.end() || it->second != downloads) {
          absl::StrAppend(&out, model, " on ", day.ToString(), ": ", downloads, "\n");
        }
      }
    }
    return out;
  }
  int64_t total() const {
    std::lock_guard lock(mutex_);
    int64_t sum = 0;
    for (const auto& [model, total] : all_time_) sum += total;
    return sum;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, int64_t> all_time_;
  std::map<std::pair<std::string, std::string>, int64_t> days_;
};

// Applies `events` as batch `identity` until the store acknowledges it (as the service retries
// a commit window with the same identities); counts the failed tries.
bool ApplyUntilAcknowledged(Store& store, const std::vector<TestEvent>& events,
                            const BatchIdentity& identity, std::atomic<int>& failures,
                            std::string& last_failure, absl::Duration patience) {
  const absl::Time give_up = absl::Now() + patience;
  while (absl::Now() < give_up) {
    absl::StatusOr<store_testing::ApplyResult> result =
        store_testing::ApplyEvents(store, events, &identity);
    if (result.ok()) return true;
    ++failures;
    last_failure = result.status().ToString();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// Producers applying random windows of 60 events from their own threads, each window retried
// with its identity until acknowledged (as the service does), until Stop().
class Producers {
 public:
  Producers(Store& store, int count, uint64_t seed) {
    for (int producer = 0; producer < count; ++producer) {
      threads_.emplace_back([this, &store, producer, seed] {
        std::mt19937_64 random(seed + producer);
        std::string failure;
        for (uint64_t sequence = 1; !stop_; ++sequence) {
          const std::vector<TestEvent> events = RandomEvents(random, 60);
          const BatchIdentity identity{.producer_id = absl::StrCat("producer", producer),
                                       .sequence = sequence};
          if (ApplyUntilAcknowledged(store, events, identity, failures_, failure,
                                     absl::Seconds(60))) {
            truth_.Add(events);
            ++windows_;
          } else {
            ++lost_;
          }
        }
        std::lock_guard lock(failure_mutex_);
        if (!failure.empty()) last_failure_ = failure;
      });
    }
  }
  ~Producers() { Stop(); }
  void Stop() {
    stop_ = true;
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  const Truth& truth() const { return truth_; }
  int windows() const { return windows_; }    // Acknowledged.
  int lost() const { return lost_; }          // Never acknowledged within a minute of tries.
  int failures() const { return failures_; }  // Tries that failed and were retried.
  std::string last_failure() {
    std::lock_guard lock(failure_mutex_);
    return last_failure_;
  }

 private:
  Truth truth_;
  std::atomic<bool> stop_{false};
  std::atomic<int> failures_{0}, windows_{0}, lost_{0};
  std::mutex failure_mutex_;
  std::string last_failure_;
  std::vector<std::thread> threads_;
};

// The change log replayed from the start equals the store's facts (nothing was trimmed: the
// retention is a minute).
void ExpectLogReplaysToFacts(Store& store, const Facts& facts) {
  Facts replayed;
  replayed.versions.assign(store.shard_count(), Version{});
  for (int page = 0; page < 100'000; ++page) {
    std::vector<std::pair<uint32_t, Version>> after;
    for (uint32_t shard = 0; shard < store.shard_count(); ++shard) {
      after.emplace_back(shard, replayed.versions[shard]);
    }
    absl::StatusOr<std::vector<ShardChanges>> changes = store.ReadChanges(after, 500);
    ASSERT_TRUE(changes.ok()) << changes.status();
    bool more = false;
    for (uint32_t shard = 0; shard < store.shard_count(); ++shard) {
      ASSERT_FALSE((*changes)[shard].gap) << shard;
      for (const auto& [version, record] : (*changes)[shard].records) {
        ASSERT_TRUE(store_testing::ApplyRecord(replayed, shard, record));
        replayed.versions[shard] = version;
        more = true;
      }
    }
    if (!more) break;
  }
  EXPECT_EQ(replayed, facts);
}

TEST(RedisStoreClusterTest, ShardsSpreadOverTheMasters) {
  RedisTestCluster cluster;
  std::unique_ptr<RedisStore> store = OpenOn(cluster, "spread");
  ASSERT_NE(store, nullptr);
  std::map<std::string, int> shards_per_master;
  for (uint32_t shard = 0; shard < kShards; ++shard) {
    ++shards_per_master[store->topology().MasterOf(RedisKeySlot(redis_keys::HashTag(shard)))];
  }
  std::string layout;
  for (const auto& [master, shards] : shards_per_master) {
    absl::StrAppend(&layout, master, ": ", shards, " shards; ");
  }
  std::printf("16 shards on 3 masters: %s\n", layout.c_str());
  EXPECT_EQ(shards_per_master.size(), 3u) << layout;
  // Every key of a shard is on the master of the shard's slot, whatever the prefix.
  ASSERT_TRUE(store_testing::ApplyEvents(*store, {{"a/x", "2024-09-01", 1, ""},
                                                  {"b/y", "2024-09-01", 1, ""},
                                                  {"c/z", "2024-09-01", 1, ""}})
                  .ok());
  int keys = 0;
  std::set<int> masters;
  for (const ClusterNodeLine& line : cluster.Nodes(0)) {
    if (!line.slots.empty()) masters.insert(cluster.NodeOnPort(line.port));
  }
  for (int node : masters) {
    const std::string listed = cluster.Cli(node, "--scan --pattern 'spread:{*'");
    for (absl::string_view key : absl::StrSplit(listed, '\n', absl::SkipEmpty())) {
      const std::string tag(key.substr(key.find('{'), key.find('}') - key.find('{') + 1));
      EXPECT_EQ(store->topology().MasterOf(RedisKeySlot(tag)), cluster.address(node)) << key;
      ++keys;
    }
  }
  EXPECT_GT(keys, 10);
}

// Windows from three producers while redis-cli moves 6000 slots (a third of the shards) from
// one master to another: every acknowledged window counted once, the log complete.
TEST(RedisStoreClusterTest, ReshardWhileApplyingKeepsFactsExact) {
  RedisTestCluster cluster;
  std::unique_ptr<RedisStore> store = OpenOn(cluster, "reshard");
  ASSERT_NE(store, nullptr);
  Producers producers(*store, 3, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::vector<ClusterNodeLine> masters = cluster.Masters(0);
  ASSERT_EQ(masters.size(), 3u);
  const auto started = Clock::now();
  const std::string reshard = cluster.Reshard(masters[0], masters[1], 6000);
  const double reshard_s = std::chrono::duration<double>(Clock::now() - started).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  producers.Stop();
  EXPECT_THAT(reshard, HasSubstr("Moving slot"));
  EXPECT_EQ(producers.lost(), 0) << producers.last_failure();

  absl::StatusOr<Facts> facts = store_testing::LoadFacts(*store);
  ASSERT_TRUE(facts.ok()) << facts.status();
  EXPECT_EQ(producers.truth().Differences(*facts), "");
  ExpectLogReplaysToFacts(*store, *facts);
  const RedisTopology::Stats stats = store->topology().stats();
  std::printf(
      "reshard of 6000 slots: %.1f s while %d windows were acknowledged (%lld downloads); "
      "%d tries failed and were retried (last: %s); moved %lld, ask %lld, retried %lld\n",
      reshard_s, producers.windows(), static_cast<long long>(producers.truth().total()),
      producers.failures(), producers.last_failure().c_str(), static_cast<long long>(stats.moved),
      static_cast<long long>(stats.asked), static_cast<long long>(stats.retried));
}

// kill -9 of a master while windows are applied with wait_replicas = 1: one of its replicas is
// promoted, and every window acknowledged before or after is in the facts exactly once (a
// window lost with the old master was never acknowledged, and its retry applies it). Two
// replicas per master: after the failover the new master still has one to WAIT for (with one,
// every write would be refused until a replica rejoins: WAIT cannot be satisfied).
TEST(RedisStoreClusterTest, KilledMasterLosesNoAcknowledgedWindowWithWait) {
  RedisTestCluster cluster({.masters = 3, .replicas_per_master = 2});
  std::unique_ptr<RedisStore> store = OpenOn(cluster, "failover", /*wait_replicas=*/1);
  ASSERT_NE(store, nullptr);
  Producers producers(*store, 2, 100);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int windows_before = producers.windows();
  // The master of shard 0's slot.
  const std::string victim = store->topology().MasterOf(RedisKeySlot(redis_keys::HashTag(0)));
  const int victim_node = cluster.NodeOnPort(std::stoi(victim.substr(victim.rfind(':') + 1)));
  ASSERT_GE(victim_node, 0);
  cluster.Kill(victim_node);
  const auto killed = Clock::now();
  const bool promoted = cluster.WaitUntilStable(30000);
  const double failover_s = std::chrono::duration<double>(Clock::now() - killed).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  producers.Stop();
  ASSERT_TRUE(promoted);
  EXPECT_EQ(producers.lost(), 0) << producers.last_failure();
  EXPECT_GT(producers.windows(), windows_before) << "no window was applied after the failover";
  EXPECT_NE(store->topology().MasterOf(RedisKeySlot(redis_keys::HashTag(0))), victim);

  absl::StatusOr<Facts> facts = store_testing::LoadFacts(*store);
  ASSERT_TRUE(facts.ok()) << facts.status();
  EXPECT_EQ(producers.truth().Differences(*facts), "");
  std::printf(
      "failover with WAIT 1: cluster stable %.2f s after kill -9; %d windows acknowledged "
      "(%d before the kill), %d tries failed and were retried (last: %s)\n",
      failover_s, producers.windows(), windows_before, producers.failures(),
      producers.last_failure().c_str());
}

// What wait_replicas = 1 costs a window (reported, not asserted): windows of 200 events over
// every shard, the two modes taking turns so load from elsewhere falls on both alike.
TEST(RedisStoreClusterTest, MeasuresTheCostOfWaitPerWindow) {
  RedisTestCluster cluster;
  std::unique_ptr<RedisStore> plain = OpenOn(cluster, "cost", 0);
  std::unique_ptr<RedisStore> waiting = OpenOn(cluster, "cost", 1);
  ASSERT_TRUE(plain && waiting);
  std::mt19937_64 random(7);
  // Every model indexed first: the rounds time the windows only.
  std::vector<TestEvent> all;
  for (int author = 0; author < 40; ++author) {
    for (int model = 0; model < 25; ++model) {
      all.push_back({absl::StrCat("org", author, "/m", model), "2024-09-01", 1, ""});
    }
  }
  ASSERT_TRUE(store_testing::ApplyEvents(*plain, all).ok());
  constexpr int kRounds = 150;
  std::vector<double> micros[2];
  Truth truth;
  truth.Add(all);
  for (int round = 0; round < kRounds; ++round) {
    for (int mode = 0; mode < 2; ++mode) {
      const std::vector<TestEvent> events = RandomEvents(random, 200);
      const BatchIdentity identity{.producer_id = "cost",
                                   .sequence = static_cast<uint64_t>(1 + round * 2 + mode)};
      absl::StatusOr<std::vector<WindowShard>> window =
          store_testing::WindowOf(*plain, events, &identity);
      ASSERT_TRUE(window.ok());
      const auto start = Clock::now();
      absl::StatusOr<std::vector<WindowShardResult>> applied =
          (mode == 0 ? plain : waiting)->ApplyWindow(*window);
      micros[mode].push_back(
          std::chrono::duration<double, std::micro>(Clock::now() - start).count());
      ASSERT_TRUE(applied.ok()) << applied.status();
      truth.Add(events);
    }
  }
  for (int mode = 0; mode < 2; ++mode) {
    std::sort(micros[mode].begin(), micros[mode].end());
    double sum = 0;
    for (double m : micros[mode]) sum += m;
    std::printf("window of 200 events on %u shards, %s: mean %.0f us  p50 %.0f us  p99 %.0f us\n",
                kShards, mode == 0 ? "no WAIT       " : "WAIT 1 / shard", sum / kRounds,
                micros[mode][kRounds / 2], micros[mode][kRounds * 99 / 100]);
  }
  absl::StatusOr<Facts> facts = store_testing::LoadFacts(*plain);
  ASSERT_TRUE(facts.ok());
  EXPECT_EQ(truth.Differences(*facts), "");
}

}  // namespace
}  // namespace hubstats
