#include "core/stats.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;

TEST(StatsTest, SharePct) {
  EXPECT_EQ(SharePct(1, 4), 25.0);
  EXPECT_EQ(SharePct(5, 0), 0.0);
  EXPECT_DOUBLE_EQ(SharePct(1, 3), 100.0 / 3.0);
}

TEST(StatsTest, ModalityShareListsAllNineSorted) {
  AggregateCounts counts = {{"s|nlp|3", 50},
                            {"s|nlp|u", 10},
                            {"s|audio|9", 30},
                            {"s|unknown|u", 10},
                            {"t|nlp|fill-mask", 60}};
  ModalityShare share = ComputeModalityShare(counts);
  EXPECT_EQ(share.total_downloads, 100);
  ASSERT_EQ(share.rows.size(), 9u);
  EXPECT_EQ(share.rows[0].modality, Modality::kNlp);
  EXPECT_EQ(share.rows[0].downloads, 60);
  EXPECT_EQ(share.rows[0].share_pct, 60.0);
  EXPECT_EQ(share.rows[1].modality, Modality::kAudio);
  // unknown (10) comes before the zero rows, which keep enum order.
  EXPECT_EQ(share.rows[2].modality, Modality::kUnknown);
  EXPECT_EQ(share.rows[3].modality, Modality::kComputerVision);
  EXPECT_EQ(share.rows[3].downloads, 0);
}

TEST(StatsTest, SizeDistributionMatchesTheReportShape) {
  // Buckets: 7 = 100M-200M, 8 = 200M-500M, 9 = 500M-1B, 10 = 1B-2B.
  AggregateCounts counts = {{"s|nlp|7", 40},  {"s|nlp|8", 20}, {"s|audio|9", 10},
                            {"s|nlp|10", 10}, {"s|nlp|u", 15}, {"s|unknown|u", 5}};
  SizeDistribution sizes = ComputeSizeDistribution(counts, kDefaultBoundaries, std::nullopt);
  EXPECT_EQ(sizes.total_downloads, 100);
  EXPECT_EQ(sizes.known_downloads, 80);
  EXPECT_EQ(sizes.unknown_downloads, 20);
  EXPECT_EQ(sizes.unknown_share_pct, 20.0);
  ASSERT_EQ(sizes.rows.size(), 4u);
  EXPECT_EQ(sizes.rows[0].downloads, 40);
  EXPECT_EQ(sizes.rows[0].share_pct, 40.0);
  EXPECT_EQ(sizes.rows[0].share_of_known_pct, 50.0);
  EXPECT_EQ(sizes.rows[0].cumulative_pct, 50.0);
  EXPECT_EQ(sizes.rows[1].cumulative_pct, 75.0);
  EXPECT_EQ(sizes.rows[2].cumulative_pct, SharePct(70, 80));
  EXPECT_EQ(sizes.rows[3].cumulative_pct, 100.0);

  SizeDistribution nlp = ComputeSizeDistribution(counts, kDefaultBoundaries, Modality::kNlp);
  EXPECT_EQ(nlp.total_downloads, 85);
  EXPECT_EQ(nlp.known_downloads, 70);
  EXPECT_EQ(nlp.rows[2].downloads, 0);

  const std::vector<int64_t> fine = {100'000'000, 200'000'000};
  SizeDistribution custom = ComputeSizeDistribution(counts, fine, std::nullopt);
  ASSERT_EQ(custom.rows.size(), 3u);
  EXPECT_EQ(custom.rows[0].downloads, 0);
  EXPECT_EQ(custom.rows[1].downloads, 40);
  EXPECT_EQ(custom.rows[2].downloads, 40);
}

TEST(StatsTest, SizeDistributionWithNothingKnownIsZero) {
  SizeDistribution sizes =
      ComputeSizeDistribution({{"s|unknown|u", 5}}, kDefaultBoundaries, std::nullopt);
  EXPECT_EQ(sizes.known_downloads, 0);
  for (const SizeRow& row : sizes.rows) {
    EXPECT_EQ(row.cumulative_pct, 0.0);
    EXPECT_EQ(row.share_of_known_pct, 0.0);
  }
}

TEST(StatsTest, BreakdownFiltersAndSorts) {
  AggregateCounts counts = {{"a|nlp|encoder", 45},  {"a|nlp|decoder", 10},
                            {"a|audio|encoder", 5}, {"a|unknown|unknown", 40},
                            {"a|nlp|other", 0},     {"t|nlp|fill-mask", 55}};
  Breakdown all = ComputeBreakdown(counts, AggregateKind::kArchitecture, std::nullopt);
  EXPECT_EQ(all.total_downloads, 100);
  EXPECT_THAT(all.rows, ElementsAre(Field(&BreakdownRow::key, "encoder"),
                                    Field(&BreakdownRow::key, "unknown"),
                                    Field(&BreakdownRow::key, "decoder")));
  EXPECT_EQ(all.rows[0].downloads, 50);
  EXPECT_EQ(all.rows[0].share_pct, 50.0);
  Breakdown nlp = ComputeBreakdown(counts, AggregateKind::kArchitecture, Modality::kNlp);
  EXPECT_EQ(nlp.total_downloads, 55);
  EXPECT_EQ(nlp.rows.size(), 2u);
}

TEST(StatsTest, TopNOrdersByDownloadsThenId) {
  std::vector<RankedEntry> entries = {{"b", 5}, {"a", 5}, {"c", 9}, {"d", 1}};
  TopN top = ComputeTopN(entries, 3, 40);
  ASSERT_EQ(top.rows.size(), 3u);
  EXPECT_EQ(top.rows[0].id, "c");
  EXPECT_EQ(top.rows[1].id, "a");
  EXPECT_EQ(top.rows[2].id, "b");
  EXPECT_EQ(top.rows[2].rank, 3);
  EXPECT_EQ(top.top_downloads, 19);
  EXPECT_EQ(top.top_share_pct, SharePct(19, 40));
  EXPECT_EQ(top.rows[1].cumulative_pct, SharePct(14, 40));
  EXPECT_EQ(top.rows[0].share_pct, SharePct(9, 40));
  EXPECT_TRUE(ComputeTopN({}, 50, 0).rows.empty());
  EXPECT_EQ(ComputeTopN(entries, 50, 20).rows.size(), 4u);
}

}  // namespace
}  // namespace hubstats
