// IngestMetrics and MeteredStore on a MemoryStore: counts follow what was committed, exactly.
#include "app/ingest_metrics.h"

#include <future>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "app/metered_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/memory_store.h"
#include "telemetry/prometheus_text.h"

namespace hubstats {
namespace {

// The value of the sample `series` (name and labels, as written) in a scrape; -1 if absent.
double SampleOf(const std::string& scrape, const std::string& series) {
  return telemetry::ReadSample(scrape, series).value_or(-1);
}

const absl::Time kNow = absl::FromUnixSeconds(1'725'000'000);

// A MemoryStore whose Ping fails, as a Redis that does not answer.
class DownStore : public MemoryStore {
 public:
  absl::Status Ping() override { return absl::UnavailableError("down"); }
};

TEST(IngestMetricsTest, CountsEventsBatchesAndWindowsOfWhatWasCommitted) {
  telemetry::Registry registry;
  MeteredStore store(std::make_unique<DownStore>(), registry);
  ReadModel model(TaskTable::BuiltIn(), store.shard_count());
  StatsService service(store, TaskTable::BuiltIn(), model);
  IngestMetrics metrics(registry);
  IngestBudget budget(1 << 20);
  metrics.WatchBudget(budget);
  GroupCommitOptions options;
  options.on_window = [&metrics](const CommittedWindow& window) { metrics.Record(window); };
  GroupCommitter committer(service, options);

  // Valid events with counts 1..5, and two that validation refuses.
  std::vector<RawEvent> events;
  int64_t downloads = 0;
  for (int64_t count = 1; count <= 5; ++count) {
    events.push_back(RawEvent{.model_id = "org/model", .count = count});
    downloads += count;
  }
  events.push_back(RawEvent{.model_id = "not a model id"});
  events.push_back(RawEvent{.model_id = "org/model", .count = 0});
  auto commit = [&](uint64_t sequence) {
    absl::StatusOr<PreparedBatch> batch =
        service.Prepare(events, kNow, BatchIdentity{.producer_id = "job", .sequence = sequence});
    EXPECT_TRUE(batch.ok()) << batch.status();
    std::promise<absl::StatusOr<IngestOutcome>> answered;
    committer.Submit(&*batch, [&](absl::StatusOr<IngestOutcome> outcome) {
      answered.set_value(std::move(outcome));
    });
    return answered.get_future().get();
  };
  ASSERT_TRUE(commit(1).ok());
  absl::StatusOr<IngestOutcome> again = commit(1);  // The same batch re-sent.
  ASSERT_TRUE(again.ok() && again->duplicate);
  ASSERT_TRUE(commit(2).ok());
  EXPECT_FALSE(store.Ping().ok());
  ASSERT_TRUE(budget.TryHold(4096));

  const std::string scrape = registry.Scrape();
  EXPECT_EQ(SampleOf(scrape, "hubstats_ingest_events_total{outcome=\"accepted\"}"), 2 * 5);
  EXPECT_EQ(SampleOf(scrape, "hubstats_ingest_events_total{outcome=\"rejected\"}"), 2 * 2);
  EXPECT_EQ(SampleOf(scrape, "hubstats_ingest_events_total{outcome=\"duplicate\"}"), 5 + 2);
  EXPECT_EQ(SampleOf(scrape, "hubstats_ingest_downloads_total"), 2 * downloads);
  EXPECT_EQ(SampleOf(scrape, "hubstats_ingest_batches_total{outcome=\"committed\"}"), 2);
  EXPECT_EQ(SampleOf(scrape, "hubstats_ingest_batches_total{outcome=\"duplicate\"}"), 1);
  EXPECT_EQ(SampleOf(scrape, "hubstats_ingest_batches_total{outcome=\"failed\"}"), 0);
  EXPECT_EQ(SampleOf(scrape, "hubstats_commit_windows_total"), 3);
  EXPECT_EQ(SampleOf(scrape, "hubstats_commit_duration_seconds_count"), 3);
  EXPECT_EQ(SampleOf(scrape, "hubstats_commit_window_events_sum"), 3 * 5);
  EXPECT_EQ(SampleOf(scrape, "hubstats_commit_window_batches_sum"), 3);
  EXPECT_EQ(SampleOf(scrape, "hubstats_ingest_inflight_bytes"), 4096);
  EXPECT_EQ(SampleOf(scrape, "hubstats_ingest_inflight_limit_bytes"), 1 << 20);
  // Every store call is timed and counted by outcome.
  EXPECT_EQ(SampleOf(scrape, "hubstats_store_calls_total{call=\"Ping\",code=\"UNAVAILABLE\"}"), 1);
  EXPECT_EQ(SampleOf(scrape, "hubstats_store_call_seconds_count{call=\"Ping\"}"), 1);
  EXPECT_GE(SampleOf(scrape, "hubstats_store_calls_total{call=\"ApplyWindow\",code=\"OK\"}"), 2);
  EXPECT_EQ(SampleOf(scrape, "hubstats_store_calls_total{call=\"CheckProducers\",code=\"OK\"}"), 3);
  EXPECT_EQ(SampleOf(scrape, "hubstats_store_calls_total{call=\"CommitProducers\",code=\"OK\"}"),
            2);
  // The first window's new model got its index (the model knew none: it never loaded).
  EXPECT_GE(SampleOf(scrape, "hubstats_store_calls_total{call=\"AssignIndexes\",code=\"OK\"}"), 1);
  budget.Release(4096);
}

}  // namespace
}  // namespace hubstats
