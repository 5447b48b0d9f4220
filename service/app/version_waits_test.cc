#include "app/version_waits.h"

#include <atomic>
#include <future>

#include "app/follower.h"
#include "app/read_model.h"
#include "app/stats_service.h"
#include "gtest/gtest.h"
#include "store/memory_store.h"

namespace hubstats {
namespace {

VersionToken Token(uint32_t shard, uint64_t major) {
  VersionToken token;
  token.shards.emplace_back(shard, Version{major, 0});
  return token;
}

TEST(VersionWaitsTest, TakesOnlyReachedWaitsEachOnce) {
  VersionWaits waits;
  int reached_a = 0, reached_b = 0;
  const absl::Time later = absl::Now() + absl::Hours(1);
  waits.Add(Token(0, 5), later, [&](bool reached) { reached_a += reached ? 1 : 100; });
  waits.Add(Token(1, 7), later, [&](bool reached) { reached_b += reached ? 1 : 100; });
  std::vector<VersionWaits::Callback> taken = waits.TakeReached({Version{5, 0}, Version{6, 0}});
  ASSERT_EQ(taken.size(), 1u);
  for (auto& then : taken) then(true);
  EXPECT_EQ(reached_a, 1);
  EXPECT_EQ(reached_b, 0);
  EXPECT_EQ(waits.pending(), 1u);
  EXPECT_TRUE(waits.TakeReached({Version{5, 0}, Version{6, 0}}).empty()) << "taken twice";
  for (auto& then : waits.TakeReached({Version{5, 0}, Version{7, 0}})) then(true);
  EXPECT_EQ(reached_b, 1);
  EXPECT_EQ(waits.pending(), 0u);
}

TEST(VersionWaitsTest, AWaitPastItsDeadlineEndsWithFalseOnTheTimer) {
  VersionWaits waits;
  std::promise<bool> ended;
  std::atomic<int> calls{0};
  const absl::Time start = absl::Now();
  // The later deadline first: the timer must wake for the sooner one added after it.
  waits.Add(Token(0, 9), start + absl::Hours(1), [](bool) {});
  waits.Add(Token(0, 9), start + absl::Milliseconds(50), [&](bool reached) {
    ++calls;
    ended.set_value(reached);
  });
  std::future<bool> result = ended.get_future();
  ASSERT_EQ(result.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_FALSE(result.get());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  EXPECT_EQ(waits.pending(), 1u);  // The one an hour away.
  // Reaching its version afterwards does not call it again.
  EXPECT_EQ(waits.TakeReached({Version{9, 0}}).size(), 1u);
  EXPECT_EQ(calls.load(), 1);
}

// The read model side: a wait ends when the follower applies the version, on the follower's
// thread after it released the model's lock (the callback queries the model: it would
// deadlock under the lock), or at once when the version is in.
class AsyncWaitTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(follower_.CatchUp().ok()); }
  StatsServiceOptions Options() {
    StatsServiceOptions options;
    options.max_version_wait = absl::Milliseconds(100);
    return options;
  }
  // Ingests one event and returns the acknowledgement's token; the follower has not applied it.
  VersionToken IngestUnapplied() {
    absl::StatusOr<IngestOutcome> outcome =
        service_.Ingest({{.model_id = "org/a", .count = 3}}, absl::Now());
    EXPECT_TRUE(outcome.ok()) << outcome.status();
    return outcome->version;
  }

  MemoryStore store_{{.shard_count = 2}};
  ReadModel model_{TaskTable::BuiltIn(), 2};
  Follower follower_{store_, model_};
  StatsService service_{store_, TaskTable::BuiltIn(), model_, Options()};
};

TEST_F(AsyncWaitTest, AQueryWaitsForItsVersionWithoutAThreadAndSeesIt) {
  const VersionToken token = IngestUnapplied();
  ASSERT_FALSE(model_.Reached(token));
  std::atomic<int> calls{0};
  int64_t seen = -1;
  Freshness freshness{.min_version = token};
  ASSERT_TRUE(service_.AwaitAsync(freshness, [&](absl::Status status) {
    ++calls;
    EXPECT_TRUE(status.ok()) << status;
    // Runs after the follower released the lock: the query sees the version it waited for.
    AsOf as_of;
    seen = model_.Totals(DayRange{}, as_of).total_downloads;
  }));
  EXPECT_EQ(calls.load(), 0) << "called before its version was applied";
  ASSERT_TRUE(follower_.CatchUp().ok());
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(seen, 3);
  // Now there is nothing to wait for: the caller runs the query at once.
  EXPECT_FALSE(service_.AwaitAsync(freshness, [&](absl::Status) { ++calls; }));
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(AsyncWaitTest, AVersionNotAppliedInTimeEndsWithAwaitsError) {
  const VersionToken token = IngestUnapplied();
  std::promise<absl::Status> ended;
  ASSERT_TRUE(service_.AwaitAsync(Freshness{.min_version = token},
                                  [&](absl::Status status) { ended.set_value(status); }));
  std::future<absl::Status> result = ended.get_future();
  ASSERT_EQ(result.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  const absl::Status status = result.get();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("has not reached the versions asked for"),
            absl::string_view::npos)
      << status;
  // A query that waits on its thread says the same.
  EXPECT_EQ(service_.GetTotals(DayRange{}, Freshness{.min_version = token}).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(AsyncWaitTest, AFreshQueryWaitsForWhatTheStoreHasCommitted) {
  IngestUnapplied();
  std::atomic<int> calls{0};
  ASSERT_TRUE(service_.AwaitAsync(Freshness{.fresh = true}, [&](absl::Status status) {
    EXPECT_TRUE(status.ok()) << status;
    ++calls;
  }));
  EXPECT_EQ(calls.load(), 0);
  ASSERT_TRUE(follower_.CatchUp().ok());
  EXPECT_EQ(calls.load(), 1);
}

TEST(ReadModelWaitTest, WaitsOfALoadingModelEndWhenItIsReady) {
  MemoryStore store({.shard_count = 1});
  ReadModel model(TaskTable::BuiltIn(), 1);
  std::atomic<int> reached{0};
  model.WhenApplied(VersionToken{}, absl::Now() + absl::Hours(1),
                    [&](bool ok) { reached += ok ? 1 : 100; });
  EXPECT_EQ(reached.load(), 0) << "a loading model reflects nothing yet";
  Follower follower(store, model);
  ASSERT_TRUE(follower.CatchUp().ok());  // Loads every shard, then sets the model ready.
  EXPECT_EQ(reached.load(), 1);
}

}  // namespace
}  // namespace hubstats
