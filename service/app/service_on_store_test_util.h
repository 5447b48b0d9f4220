// A fixture for StatsService tests on every store: a fresh store of the test's kind (the
// TEST_P parameter), a read model with the clock fixed at `now`, kept current by a Follower
// after every write the fixture makes.
#ifndef HUBSTATS_SERVICE_APP_SERVICE_ON_STORE_TEST_UTIL_H_
#define HUBSTATS_SERVICE_APP_SERVICE_ON_STORE_TEST_UTIL_H_

#include <memory>
#include <vector>

#include "app/follower.h"
#include "app/stats_service.h"
#include "gtest/gtest.h"
#include "store/store_kinds.h"
#include "store/store_test_util.h"

namespace hubstats::test_support {

class ServiceOnStoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  explicit ServiceOnStoreTest(absl::Time now) : now_(now) {}

  void SetUp() override {
    store_ = GetParam().make(nullptr);
    ASSERT_NE(store_, nullptr);
    ReadModelOptions options;
    options.clock = [now = now_] { return now; };
    model_ = std::make_unique<ReadModel>(TaskTable::BuiltIn(), store_->shard_count(), options);
    follower_ = std::make_unique<Follower>(*store_, *model_);
    ASSERT_TRUE(follower_->CatchUp().ok());
    service_ = std::make_unique<StatsService>(*store_, TaskTable::BuiltIn(), *model_);
  }

  void Ingest(const std::vector<store_testing::TestEvent>& events) {
    absl::StatusOr<store_testing::ApplyResult> result = store_testing::ApplyEvents(*store_, events);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_TRUE(follower_->CatchUp().ok());
  }
  void Upsert(const std::vector<CatalogRecord>& records) {
    ASSERT_TRUE(store_->UpsertModels(records).ok());
    ASSERT_TRUE(follower_->CatchUp().ok());
  }

  const absl::Time now_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ReadModel> model_;
  std::unique_ptr<Follower> follower_;
  std::unique_ptr<StatsService> service_;
};

}  // namespace hubstats::test_support

#endif  // HUBSTATS_SERVICE_APP_SERVICE_ON_STORE_TEST_UTIL_H_
