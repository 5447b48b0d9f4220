// The read model's writer lock as the scheduler sees it: with writer_realtime_priority, every
// exclusive hold (change records, shard loads, a ranking built by a query) runs at that
// real-time priority, and the thread gets back its own policy once the hold ends; answers stay
// exact. Fed by a Follower over a MemoryStore, as the server feeds it.
#include <pthread.h>
#include <sched.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/follower.h"
#include "app/os_thread.h"
#include "app/read_model.h"
#include "app/stats_service.h"
#include "gtest/gtest.h"
#include "store/memory_store.h"

namespace hubstats {
namespace {

struct Policy {
  int policy = -1;
  int priority = -1;
};

Policy ThisThreadPolicy() {
  Policy seen;
  sched_param param{};
  pthread_getschedparam(pthread_self(), &seen.policy, &param);
  seen.priority = param.sched_priority;
  return seen;
}

TEST(ReadModelLockTest, HoldsRunAtTheWritersPriorityAndOnlyThen) {
  if (absl::Status allowed = RealtimeBoost::Check(2); !allowed.ok()) {
    GTEST_SKIP() << "this process may not use real-time priorities: " << allowed;
  }
  std::mutex mutex;
  std::vector<Policy> during;  // The holder's policy as each hold is reported.
  ReadModelOptions options;
  options.writer_realtime_priority = 2;
  options.on_exclusive_hold = [&](absl::Duration) {
    std::lock_guard lock(mutex);
    during.push_back(ThisThreadPolicy());
  };
  MemoryStore store(MemoryStoreOptions{.shard_count = 4});
  ReadModel model(TaskTable::BuiltIn(), 4, options);
  Follower follower(store, model, FollowerOptions{});
  ASSERT_TRUE(follower.CatchUp().ok());
  StatsService service(store, TaskTable::BuiltIn(), model);
  std::vector<std::string> ids;  // RawEvent views its model id.
  for (int i = 0; i < 30; ++i)
    ids.push_back("org" + std::to_string(i % 4) + "/m" + std::to_string(i));
  std::vector<RawEvent> events;
  int64_t expected = 0;
  for (int i = 0; i < 30; ++i) {
    events.push_back(RawEvent{.model_id = ids[i], .count = i + 1});
    expected += i + 1;
  }
  const absl::Time now = absl::FromUnixSeconds(1'726'833'600);
  ASSERT_TRUE(service.Ingest(events, now).ok());
  ASSERT_TRUE(follower.CatchUp().ok());
  // A query on a thread of its own builds a ranking under the exclusive lock.
  std::thread query([&] {
    AsOf as_of;
    const TopCandidates top = model.Top(DayRange{}, RankBy::kAuthor, Modality::kUnknown, 3, as_of);
    EXPECT_EQ(top.entries.size(), 3u);
    const Policy after = ThisThreadPolicy();
    EXPECT_EQ(after.policy, SCHED_OTHER);
  });
  query.join();
  AsOf as_of;
  EXPECT_EQ(model.Totals(DayRange{}, as_of).total_downloads, expected);
  const Policy after = ThisThreadPolicy();
  EXPECT_EQ(after.policy, SCHED_OTHER);
  std::lock_guard lock(mutex);
  ASSERT_GE(during.size(), 4u + 1u);  // Four shard loads, records, the ranking.
  for (const Policy& seen : during) {
    EXPECT_EQ(seen.policy, SCHED_FIFO);
    EXPECT_EQ(seen.priority, 2);
  }
}

TEST(ReadModelLockTest, WithoutAPriorityHoldsKeepTheThreadsPolicy) {
  std::vector<int> during;
  ReadModelOptions options;
  options.on_exclusive_hold = [&](absl::Duration) { during.push_back(ThisThreadPolicy().policy); };
  MemoryStore store(MemoryStoreOptions{.shard_count = 2});
  ReadModel model(TaskTable::BuiltIn(), 2, options);
  Follower follower(store, model, FollowerOptions{});
  ASSERT_TRUE(follower.CatchUp().ok());
  ASSERT_GE(during.size(), 2u);  // The shards loaded, at least.
  for (int policy : during) EXPECT_EQ(policy, SCHED_OTHER);
}

}  // namespace
}  // namespace hubstats
