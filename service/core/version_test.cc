#include "core/version.h"

#include "core/field_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(VersionTest, ParsesWhatItPrintsAndOrdersByMajorThenMinor) {
  const Version version{1726833600123, 7};
  EXPECT_EQ(version.ToString(), "1726833600123-7");
  EXPECT_EQ(*Version::Parse("1726833600123-7"), version);
  EXPECT_LT((Version{1, 9}), (Version{2, 0}));
  EXPECT_LT((Version{2, 0}), (Version{2, 1}));
  EXPECT_EQ(Version(), (Version{0, 0}));
  for (const char* bad : {"", "-", "1", "1-", "-1", "+1-2", "1-+2", "a-1", "1-2-3", "1 -2",
                          "18446744073709551616-0"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(Version::Parse(bad).status())) << bad;
  }
}

TEST(VersionTokenTest, RoundTripsAscendingShards) {
  absl::StatusOr<VersionToken> token = VersionToken::Parse("3:5-1,0:4-0", 16);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_THAT(token->shards, ElementsAre(Pair(0u, Version{4, 0}), Pair(3u, Version{5, 1})));
  EXPECT_EQ(token->ToString(), "0:4-0,3:5-1");
  EXPECT_TRUE(VersionToken::Parse("", 16)->shards.empty());
  EXPECT_EQ(VersionToken().ToString(), "");
}

TEST(VersionTokenTest, AShardNamedTwiceKeepsTheLaterVersion) {
  // Tokens joined by a client (two acknowledgements) still parse: the later version wins,
  // which is what Merge would give.
  absl::StatusOr<VersionToken> token = VersionToken::Parse("2:5-0,2:7-1,2:6-9", 4);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_THAT(token->shards, ElementsAre(Pair(2u, Version{7, 1})));
}

TEST(VersionTokenTest, RefusalsNameTheFieldAndSayWhatToUse) {
  for (const char* bad : {"16:1-0", "x:1-0", "1:1", "1", "1:1-0,", ",1:1-0", "1:1-0:2"}) {
    absl::Status status = VersionToken::Parse(bad, 16, "freshness.min_version").status();
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << bad;
    EXPECT_EQ(FieldOf(status), "freshness.min_version") << bad;
    EXPECT_THAT(ReasonOf(status), HasSubstr("use the token an ingest acknowledgement")) << bad;
  }
}

TEST(VersionTokenTest, MergeKeepsTheLaterOfEachShardAndReachedByComparesEach) {
  VersionToken a = *VersionToken::Parse("0:1-0,2:5-0", 4);
  a.Merge(*VersionToken::Parse("1:3-0,2:4-9", 4));
  EXPECT_EQ(a.ToString(), "0:1-0,1:3-0,2:5-0");
  EXPECT_TRUE(a.ReachedBy({{1, 0}, {3, 0}, {5, 0}, {0, 0}}));
  EXPECT_FALSE(a.ReachedBy({{1, 0}, {2, 9}, {9, 0}, {0, 0}}));  // Shard 1 is behind.
  EXPECT_FALSE(a.ReachedBy({{1, 0}, {3, 0}}));                  // Shard 2 is unknown.
  EXPECT_TRUE(VersionToken().ReachedBy({}));
}

}  // namespace
}  // namespace hubstats
