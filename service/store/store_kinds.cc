#include "store/store_kinds.h"

#include <atomic>

#include "gtest/gtest.h"
#include "redis_server.h"
#include "redis_test_cluster.h"
#include "store/memory_store.h"
#include "store/redis_store.h"

namespace hubstats::test_support {
namespace {

// Two "replicas" of a MemoryStore share one object.
class SharedMemoryStore : public Store {
 public:
  explicit SharedMemoryStore(std::shared_ptr<MemoryStore> store) : store_(std::move(store)) {}
  std::shared_ptr<MemoryStore> shared() const { return store_; }
  uint32_t shard_count() const override { return store_->shard_count(); }
  absl::StatusOr<std::vector<uint32_t>> AssignIndexes(uint32_t shard,
                                                      absl::Span<const std::string> ids) override {
    return store_->AssignIndexes(shard, ids);
  }
  absl::StatusOr<std::vector<WindowShardResult>> ApplyWindow(
      absl::Span<const WindowShard> shards) override {
    return store_->ApplyWindow(shards);
  }
  absl::StatusOr<std::vector<int64_t>> ReadAuthorTotals(
      absl::Span<const absl::string_view> authors) override {
    return store_->ReadAuthorTotals(authors);
  }
  absl::StatusOr<std::vector<ProducerVerdict>> CheckProducers(
      absl::Span<const BatchIdentity> identities) override {
    return store_->CheckProducers(identities);
  }
  absl::Status CommitProducers(absl::Span<const BatchIdentity> identities) override {
    return store_->CommitProducers(identities);
  }
  absl::StatusOr<UpsertResult> UpsertModels(absl::Span<const CatalogRecord> records) override {
    return store_->UpsertModels(records);
  }
  absl::StatusOr<ShardSnapshot> LoadShard(uint32_t shard) override {
    return store_->LoadShard(shard);
  }
  absl::StatusOr<std::vector<ShardChanges>> ReadChanges(
      absl::Span<const std::pair<uint32_t, Version>> after, size_t limit) override {
    return store_->ReadChanges(after, limit);
  }
  absl::StatusOr<VersionVector> ReadVersions(absl::Time deadline) override {
    return store_->ReadVersions(deadline);
  }
  absl::StatusOr<std::optional<Day>> FoldMonth(uint32_t shard, Day before) override {
    return store_->FoldMonth(shard, before);
  }
  absl::StatusOr<std::vector<RevisionDownloads>> ReadRevisions(uint32_t shard, uint32_t index,
                                                               const DayRange& range,
                                                               absl::Time deadline) override {
    return store_->ReadRevisions(shard, index, range, deadline);
  }
  absl::Status Ping() override { return store_->Ping(); }
  absl::StatusOr<std::string> ReadSetting(absl::string_view name) override {
    return store_->ReadSetting(name);
  }
  absl::Status WriteSetting(absl::string_view name, absl::string_view value) override {
    return store_->WriteSetting(name, value);
  }

 private:
  std::shared_ptr<MemoryStore> store_;
};

std::unique_ptr<Store> MakeMemoryStore(Store* same_as) {
  if (same_as != nullptr) {
    return std::make_unique<SharedMemoryStore>(static_cast<SharedMemoryStore*>(same_as)->shared());
  }
  return std::make_unique<SharedMemoryStore>(
      std::make_shared<MemoryStore>(MemoryStoreOptions{.shard_count = 4}));
}

RedisServer& SharedRedis() {
  // Destroyed at exit, which stops the server and removes its directory.
  static RedisServer server;
  return server;
}

std::string UniquePrefix() {
  static std::atomic<int> counter{0};
  return "test" + std::to_string(counter++);
}

std::unique_ptr<Store> OpenRedisStore(Store* same_as, int dense_days) {
  RedisStoreOptions options;
  options.url = SharedRedis().url();
  options.key_prefix = same_as ? static_cast<RedisStore*>(same_as)->key_prefix() : UniquePrefix();
  options.shard_count = 4;
  options.dense_days = dense_days;
  absl::StatusOr<std::unique_ptr<RedisStore>> store = RedisStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

// The suites' days are in 2024: by default closed days (sparse hashes). "RedisDense" keeps
// every day open, so the dense arrays go through the suites too.
std::unique_ptr<Store> MakeRedisStore(Store* same_as) { return OpenRedisStore(same_as, 2); }
std::unique_ptr<Store> MakeDenseRedisStore(Store* same_as) {
  return OpenRedisStore(same_as, 1'000'000);
}

RedisTestCluster& SharedCluster() {
  // 3 masters and 3 replicas; destroyed at exit, which stops every node.
  static RedisTestCluster cluster;
  return cluster;
}

// 16 shards: their slots spread over the three masters (redis_store_test.cc checks that).
std::unique_ptr<Store> MakeRedisClusterStore(Store* same_as) {
  RedisStoreOptions options;
  options.cluster_seeds = {SharedCluster().address(0), SharedCluster().address(1)};
  options.key_prefix = same_as ? static_cast<RedisStore*>(same_as)->key_prefix() : UniquePrefix();
  options.shard_count = 16;
  absl::StatusOr<std::unique_ptr<RedisStore>> store = RedisStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

}  // namespace

std::vector<StoreKind> AllStoreKinds() {
  return {{"Memory", MakeMemoryStore},
          {"Redis", MakeRedisStore},
          {"RedisDense", MakeDenseRedisStore},
          {"RedisCluster", MakeRedisClusterStore}};
}

}  // namespace hubstats::test_support
