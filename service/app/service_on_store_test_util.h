// A fixture for StatsService tests on every store: a fresh store of the test's kind (the
// TEST_P parameter), a read model with the clock fixed at `now`, kept current by a Follower
// after every write the fixture makes.
#ifndef HUBSTATS_SERVICE_APP_SERVICE_ON_STORE_TEST_UTIL_H_
#define HUBSTATS_SERVICE_APP_SERVICE_ON_STORE_TEST_UTIL_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/follower.h"
#include "app/stats_service.h"
#include "core/model_id.h"
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
    for (const store_testing::TestEvent& event : events) {
      downloads_[event.model][*Day::Parse(event.day)] += event.count;
    }
  }
  void Upsert(const std::vector<CatalogRecord>& records) {
    ASSERT_TRUE(store_->UpsertModels(records).ok());
    ASSERT_TRUE(follower_->CatchUp().ok());
    for (const CatalogRecord& record : records) records_[record.model_id] = record;
  }

  // What the fixture wrote, for recounting answers model by model.
  // A model's class under the built-in task table (unknown without a record).
  ModelClass ClassOf(const std::string& id) const {
    auto record = records_.find(id);
    return record == records_.end() ? ModelClass::Unknown()
                                    : Classify(record->second, TaskTable::BuiltIn());
  }
  // Its parameter count; 0 when unknown.
  int64_t ParametersOf(const std::string& id) const {
    auto record = records_.find(id);
    return record == records_.end() ? 0 : record->second.num_parameters;
  }
  // Whether `filter` admits the model, decided here from its record.
  bool Admits(const std::string& id, const TopFilter& filter) const {
    const ModelClass cls = ClassOf(id);
    const int64_t parameters = ParametersOf(id);
    if (filter.modality && cls.modality != *filter.modality) return false;
    if (filter.author && std::string(AuthorOf(id)) != *filter.author) return false;
    if (filter.task && cls.task != *filter.task) return false;
    if (filter.library && cls.library != *filter.library) return false;
    if ((filter.min_parameters || filter.max_parameters) && parameters == 0) return false;
    if (filter.min_parameters && parameters < *filter.min_parameters) return false;
    if (filter.max_parameters && parameters >= *filter.max_parameters) return false;
    return true;
  }
  int64_t DownloadsIn(const std::string& id, const DayRange& range) const {
    int64_t total = 0;
    auto days = downloads_.find(id);
    if (days == downloads_.end()) return 0;
    for (const auto& [day, count] : days->second) {
      if (range.Contains(day)) total += count;
    }
    return total;
  }

  const absl::Time now_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ReadModel> model_;
  std::unique_ptr<Follower> follower_;
  std::unique_ptr<StatsService> service_;
  std::map<std::string, CatalogRecord> records_;             // Latest record per model.
  std::map<std::string, std::map<Day, int64_t>> downloads_;  // Per model and day.
};

}  // namespace hubstats::test_support

#endif  // HUBSTATS_SERVICE_APP_SERVICE_ON_STORE_TEST_UTIL_H_
