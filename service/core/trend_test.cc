#include "core/trend.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

using ::testing::ElementsAre;

Day D(absl::string_view text) { return *Day::Parse(text); }

// Counters of one period: `downloads` of a class with task `task` and modality `modality`.
void AddClass(AggregateCounts& counts, Modality modality, const std::string& task,
              std::optional<int> size_bucket, int64_t downloads) {
  ModelClass cls{.modality = modality,
                 .size_bucket = size_bucket,
                 .task = task,
                 .architecture = "(none)",
                 .library = "(none)"};
  for (const std::string& field : cls.AggregateFields()) counts[field] += downloads;
}

TEST(TrendTest, KeysAreTheUnionInAFixedOrderWithZerosWhereAPeriodHasNone) {
  const std::vector<Period> periods =
      PeriodsOf(D("2024-01-15"), D("2024-03-10"), Granularity::kMonth);
  std::vector<AggregateCounts> counts(periods.size());
  AddClass(counts[0], Modality::kNlp, "fill-mask", 3, 10);
  AddClass(counts[0], Modality::kAudio, "automatic-speech-recognition", std::nullopt, 5);
  AddClass(counts[2], Modality::kAudio, "automatic-speech-recognition", std::nullopt, 20);
  const Trend tasks = ComputeAggregateTrend(periods, counts, TrendDimension::kTask, {},
                                            std::nullopt, Granularity::kMonth);
  EXPECT_THAT(tasks.keys, ElementsAre("automatic-speech-recognition", "fill-mask"));
  ASSERT_EQ(tasks.periods.size(), 3u);
  EXPECT_THAT(tasks.periods[0].downloads, ElementsAre(5, 10));
  EXPECT_THAT(tasks.periods[1].downloads, ElementsAre(0, 0));
  EXPECT_THAT(tasks.periods[2].downloads, ElementsAre(20, 0));
  EXPECT_THAT(tasks.periods[2].share_pct, ElementsAre(100.0, 0.0));
  EXPECT_EQ(tasks.periods[0].total_downloads, 15);

  const Trend modalities = ComputeAggregateTrend(periods, counts, TrendDimension::kModality, {},
                                                 std::nullopt, Granularity::kMonth);
  ASSERT_EQ(modalities.keys.size(), 9u);  // All nine; ties (no downloads) in enum order.
  EXPECT_EQ(modalities.keys[0], "audio");
  EXPECT_EQ(modalities.keys[1], "nlp");
  EXPECT_EQ(modalities.keys[2], "computer_vision");
  EXPECT_EQ(modalities.keys[8], "unknown");

  const Trend sizes = ComputeAggregateTrend(periods, counts, TrendDimension::kSize,
                                            kDefaultBoundaries, std::nullopt, Granularity::kMonth);
  EXPECT_THAT(sizes.keys, ElementsAre("<200M", "200M-500M", "500M-1B", ">=1B", "unknown"));
  EXPECT_THAT(sizes.periods[0].downloads, ElementsAre(10, 0, 0, 0, 5));

  const Trend audio = ComputeAggregateTrend(periods, counts, TrendDimension::kModality, {},
                                            Modality::kAudio, Granularity::kMonth);
  EXPECT_THAT(audio.keys, ElementsAre("audio"));
  EXPECT_THAT(audio.periods[0].share_pct, ElementsAre(100.0));
  EXPECT_EQ(audio.periods[0].total_downloads, 5);
}

TEST(TrendTest, ConcentrationIsTheTopAndTheRest) {
  const std::vector<Period> periods =
      PeriodsOf(D("2024-01-01"), D("2024-01-02"), Granularity::kDay);
  std::vector<PeriodTop> tops = {
      {{{"a/x", 6}, {"b/y", 3}, {"c/z", 1}}, 10},
      {{}, 0},
  };
  const Trend trend =
      ComputeConcentrationTrend(periods, tops, TrendDimension::kTopModels, 2, Granularity::kDay);
  EXPECT_THAT(trend.keys, ElementsAre("top 2", "rest"));
  EXPECT_THAT(trend.periods[0].downloads, ElementsAre(9, 1));
  EXPECT_THAT(trend.periods[0].share_pct, ElementsAre(90.0, 10.0));
  EXPECT_THAT(trend.periods[1].downloads, ElementsAre(0, 0));
}

TEST(TrendTest, ParsesDimensionNames) {
  EXPECT_EQ(*ParseTrendDimension("top-authors"), TrendDimension::kTopAuthors);
  absl::StatusOr<TrendDimension> bad = ParseTrendDimension("country");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), testing::HasSubstr("modality, size, task"));
}

}  // namespace
}  // namespace hubstats
