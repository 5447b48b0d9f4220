#include "core/delta.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace hubstats {
namespace {

ValidEvent Event(absl::string_view model, absl::string_view author, absl::string_view day,
                 int64_t count, absl::string_view revision = "") {
  return {model, author, *Day::Parse(day), count, revision};
}

TEST(ShardTest, StableAndInRange) {
  // FNV-1a 64 of "" is the offset basis; these values pin the function (changing it would
  // move every author to another shard).
  EXPECT_EQ(ShardOf("", 1u << 31), 14695981039346656037ull % (1u << 31));
  EXPECT_EQ(ShardOf("a", 1000), 12638187200555641996ull % 1000);
  for (const char* author : {"google", "meta-llama", "(canonical)"}) {
    EXPECT_LT(ShardOf(author, 16), 16u);
    EXPECT_EQ(ShardOf(author, 16), ShardOf(author, 16));
  }
}

TEST(ShardDeltaBuilderTest, FoldsEventsPerModelAndDay) {
  ShardDeltaBuilder builder;
  builder.Add(Event("org/a", "org", "2024-09-02", 5, "main"));
  builder.Add(Event("org/a", "org", "2024-09-01", 2));
  builder.Add(Event("org/a", "org", "2024-09-02", 3, "main"));
  builder.Add(Event("org/a", "org", "2024-09-02", 1, "v2"));
  builder.Add(Event("org/b", "org", "2024-09-01", 7));
  const ShardDelta shard = builder.Build(3);
  EXPECT_EQ(shard.shard, 3u);
  ASSERT_EQ(shard.models.size(), 2u);
  int64_t total = 0;
  for (const ModelDelta& model : shard.models) {
    EXPECT_EQ(model.author, "org");
    total += model.total;
    if (model.model_id != "org/a") continue;
    ASSERT_EQ(model.days.size(), 2u);
    EXPECT_EQ(model.days[0].day.ToString(), "2024-09-01");
    EXPECT_EQ(model.days[0].count, 2);
    EXPECT_TRUE(model.days[0].revisions.empty());
    EXPECT_EQ(model.days[1].count, 9);
    ASSERT_EQ(model.days[1].revisions.size(), 2u);
    EXPECT_EQ(model.days[1].revisions[0], (std::pair<std::string, int64_t>{"main", 8}));
    EXPECT_EQ(model.days[1].revisions[1], (std::pair<std::string, int64_t>{"v2", 1}));
    EXPECT_EQ(model.total, 11);
  }
  EXPECT_EQ(total, 18);
}

TEST(ShardDeltaBuilderTest, AllTimeOnlyEventsAddToTheTotalOnNoDay) {
  ShardDeltaBuilder builder;
  builder.Add(Event("org/a", "org", "2024-09-02", 5, "main"));
  ValidEvent late = Event("org/a", "org", "2024-08-01", 4, "main");
  late.all_time_only = true;
  builder.Add(late);
  builder.Add(late);
  ValidEvent late_only = Event("org/b", "org", "2024-08-01", 1);
  late_only.all_time_only = true;
  builder.Add(late_only);
  ShardDelta shard = builder.Build(0);
  ASSERT_EQ(shard.models.size(), 2u);
  std::sort(shard.models.begin(), shard.models.end(),
            [](const ModelDelta& a, const ModelDelta& b) { return a.model_id < b.model_id; });
  const ModelDelta& a = shard.models[0];
  EXPECT_EQ(a.total, 13);
  EXPECT_EQ(a.all_time_only, 8);
  ASSERT_EQ(a.days.size(), 1u);  // 2024-08-01 has no counter for late events.
  EXPECT_EQ(a.days[0].day.ToString(), "2024-09-02");
  EXPECT_EQ(a.days[0].count, 5);
  ASSERT_EQ(a.days[0].revisions.size(), 1u);
  EXPECT_EQ(a.days[0].revisions[0].second, 5);  // The late events' revision is not kept.
  const ModelDelta& b = shard.models[1];
  EXPECT_EQ(b.total, 1);
  EXPECT_EQ(b.all_time_only, 1);
  EXPECT_TRUE(b.days.empty());
}

TEST(ShardDeltaBuilderTest, EmptyBuilderBuildsNothing) {
  ShardDeltaBuilder builder;
  EXPECT_TRUE(builder.empty());
  EXPECT_TRUE(builder.Build(0).models.empty());
}

}  // namespace
}  // namespace hubstats
