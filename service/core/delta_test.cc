#include "core/delta.h"

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

TEST(ShardDeltaBuilderTest, EmptyBuilderBuildsNothing) {
  ShardDeltaBuilder builder;
  EXPECT_TRUE(builder.empty());
  EXPECT_TRUE(builder.Build(0).models.empty());
}

}  // namespace
}  // namespace hubstats
