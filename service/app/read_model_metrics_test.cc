// ReadModelMetrics fed by a Follower on a MeteredStore over a MemoryStore: records applied equal
// the change records the store logged (read back from the store itself), loads and lag follow
// the clock the test drives.
#include "app/read_model_metrics.h"

#include <string>
#include <utility>
#include <vector>

#include "app/metered_store.h"
#include "app/stats_service.h"
#include "gtest/gtest.h"
#include "store/memory_store.h"
#include "telemetry/prometheus_text.h"

namespace hubstats {
namespace {

// The value of the sample `series` (name and labels, as written) in a scrape; -1000 if absent.
double SampleOf(const std::string& scrape, const std::string& series) {
  return telemetry::ReadSample(scrape, series).value_or(-1000);
}

// Every change record the store holds, all shards (its logs keep them all here).
size_t LoggedRecords(Store& store) {
  std::vector<std::pair<uint32_t, Version>> after;
  for (uint32_t shard = 0; shard < store.shard_count(); ++shard)
    after.emplace_back(shard, Version{});
  absl::StatusOr<std::vector<ShardChanges>> changes = store.ReadChanges(after, 1'000'000);
  EXPECT_TRUE(changes.ok()) << changes.status();
  size_t records = 0;
  for (const ShardChanges& shard : *changes) records += shard.records.size();
  return records;
}

class ReadModelMetricsTest : public ::testing::Test {
 protected:
  FollowerOptions Options() {
    FollowerOptions options;
    options.on_progress = [this](const FollowerProgress& progress) { metrics_.Record(progress); };
    options.on_error = [this](const absl::Status& status) { metrics_.RecordError(status); };
    return options;
  }
  double Sample(const std::string& series) { return SampleOf(registry_.Scrape(), series); }

  absl::Time now_ = absl::FromUnixSeconds(1'726'833'600);
  telemetry::Registry registry_;
  MeteredStore store_{std::make_unique<MemoryStore>(MemoryStoreOptions{.shard_count = 4}),
                      registry_};
  ReadModel model_{TaskTable::BuiltIn(), 4,
                   ReadModelOptions{.on_exclusive_hold = WriteHoldRecorder(registry_)}};
  ReadModelMetrics metrics_{registry_, model_, [this] { return now_; }};
  Follower follower_{store_, model_, Options()};
};

TEST_F(ReadModelMetricsTest, FollowsLoadsRecordsAndTheClock) {
  EXPECT_EQ(Sample("hubstats_read_model_ready"), 0);
  EXPECT_EQ(Sample("hubstats_read_model_last_apply_age_seconds"), -1);
  now_ += absl::Seconds(3);  // Loading: the lag counts from construction.
  EXPECT_EQ(Sample("hubstats_read_model_lag_seconds"), 3);

  ASSERT_TRUE(follower_.CatchUp().ok());
  EXPECT_EQ(Sample("hubstats_read_model_ready"), 1);
  EXPECT_EQ(Sample("hubstats_read_model_shard_loads_total{reason=\"start\"}"), 4);
  EXPECT_EQ(Sample("hubstats_read_model_shard_loads_total{reason=\"gap\"}"), 0);
  EXPECT_EQ(Sample("hubstats_read_model_records_applied_total"), 0);
  EXPECT_EQ(Sample("hubstats_read_model_lag_seconds"), 0);
  EXPECT_EQ(Sample("hubstats_store_calls_total{call=\"LoadShard\",code=\"OK\"}"), 4);

  // Writes through the service: new models (indexes), downloads and catalog records.
  StatsService service(store_, TaskTable::BuiltIn(), model_);
  // RawEvent views its model id: the ids live here.
  std::vector<std::string> ids;
  for (int model = 0; model < 20; ++model) {
    ids.push_back("org" + std::to_string(model % 7) + "/m" + std::to_string(model));
  }
  std::vector<RawEvent> events;
  for (int model = 0; model < 20; ++model) {
    events.push_back(RawEvent{.model_id = ids[model], .count = model + 1});
  }
  ASSERT_TRUE(service.Ingest(events, now_).ok());
  ASSERT_TRUE(service.Ingest(events, now_ + absl::Hours(24)).ok());
  ASSERT_TRUE(
      service.UpsertModels({CatalogRecord{.model_id = "org1/m1", .pipeline_tag = "fill-mask"}})
          .ok());
  const size_t logged = LoggedRecords(store_);
  ASSERT_GT(logged, 2u);

  now_ += absl::Seconds(5);
  EXPECT_EQ(Sample("hubstats_read_model_lag_seconds"), 5);
  const double holds = Sample("hubstats_read_model_write_hold_seconds_count");
  EXPECT_GE(holds, 4);  // A hold per shard loaded, at least.
  ASSERT_TRUE(follower_.CatchUp().ok());
  EXPECT_EQ(Sample("hubstats_read_model_records_applied_total"), static_cast<double>(logged));
  // Each record applied is one hold of the lock, timed.
  EXPECT_EQ(Sample("hubstats_read_model_write_hold_seconds_count") - holds,
            static_cast<double>(logged));
  EXPECT_GT(Sample("hubstats_read_model_write_hold_seconds_sum"), 0);
  EXPECT_EQ(Sample("hubstats_read_model_write_hold_seconds_bucket{le=\"+Inf\"}"),
            Sample("hubstats_read_model_write_hold_seconds_count"));
  EXPECT_EQ(Sample("hubstats_read_model_last_apply_age_seconds"), 0);
  EXPECT_EQ(Sample("hubstats_read_model_lag_seconds"), 0);

  now_ += absl::Seconds(2);  // Nothing new: caught up again, the last change ages.
  ASSERT_TRUE(follower_.CatchUp().ok());
  EXPECT_EQ(Sample("hubstats_read_model_records_applied_total"), static_cast<double>(logged));
  EXPECT_EQ(Sample("hubstats_read_model_last_apply_age_seconds"), 2);
  EXPECT_EQ(Sample("hubstats_read_model_lag_seconds"), 0);
  EXPECT_EQ(Sample("hubstats_read_model_follow_errors_total"), 0);
}

TEST_F(ReadModelMetricsTest, CountsReloadsAfterGapsAndErrors) {
  metrics_.Record({.shards_loaded = 4});
  metrics_.Record({.records_applied = 3, .shards_reloaded = 2});
  metrics_.RecordError(absl::UnavailableError("down"));
  metrics_.RecordError(absl::UnavailableError("down"));
  now_ += absl::Milliseconds(1500);
  EXPECT_EQ(Sample("hubstats_read_model_shard_loads_total{reason=\"start\"}"), 4);
  EXPECT_EQ(Sample("hubstats_read_model_shard_loads_total{reason=\"gap\"}"), 2);
  EXPECT_EQ(Sample("hubstats_read_model_records_applied_total"), 3);
  EXPECT_EQ(Sample("hubstats_read_model_follow_errors_total"), 2);
  // Never caught up: the lag counts from construction.
  EXPECT_EQ(Sample("hubstats_read_model_lag_seconds"), 1.5);
  EXPECT_EQ(Sample("hubstats_read_model_last_apply_age_seconds"), 1.5);
}

}  // namespace
}  // namespace hubstats
