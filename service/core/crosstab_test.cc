#include "core/crosstab.h"

#include "core/field_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Keys(const std::vector<BreakdownRow>& rows) {
  std::vector<std::string> keys;
  for (const BreakdownRow& row : rows) keys.push_back(row.key);
  return keys;
}

TEST(CrossTabTest, EveryPairIsPresentWithZerosAndTotalsAddUp) {
  const std::vector<int64_t> boundaries = {1'000'000'000};
  const std::vector<CrossCount> counts = {
      {"decoder", ">=1B", 60},   {"decoder", "<1B", 20},   {"encoder", "<1B", 15},
      {"encoder", "unknown", 5}, {"(none)", "unknown", 0},  // Zero pairs name no key.
  };
  const CrossTab table = ComputeCrossTab(counts, TrendDimension::kArchitecture,
                                         TrendDimension::kSize, boundaries, std::nullopt);
  EXPECT_EQ(table.total_downloads, 100);
  EXPECT_THAT(Keys(table.rows), ElementsAre("decoder", "encoder"));
  // Size classes are all there, smallest first, "unknown" last, with or without downloads.
  EXPECT_THAT(Keys(table.columns), ElementsAre("<1B", ">=1B", "unknown"));
  ASSERT_EQ(table.cells.size(), 6u);
  EXPECT_EQ(table.cell(0, 0).downloads, 20);
  EXPECT_EQ(table.cell(0, 1).downloads, 60);
  EXPECT_EQ(table.cell(0, 2).downloads, 0);
  EXPECT_EQ(table.cell(1, 1).downloads, 0);
  EXPECT_EQ(table.rows[0].downloads, 80);
  EXPECT_EQ(table.columns[0].downloads, 35);
  EXPECT_DOUBLE_EQ(table.cell(0, 1).share_pct, 60.0);
  EXPECT_DOUBLE_EQ(table.cell(0, 1).row_share_pct, 75.0);
  EXPECT_DOUBLE_EQ(table.cell(1, 2).row_share_pct, 25.0);
  EXPECT_DOUBLE_EQ(table.rows[1].share_pct, 20.0);
  EXPECT_THAT(table.boundaries, ElementsAre(1'000'000'000));
}

TEST(CrossTabTest, ModalitiesAreAllNineOrOnlyTheFilteredOne) {
  const std::vector<CrossCount> counts = {{"audio", "fill-mask", 3}, {"nlp", "fill-mask", 7}};
  const CrossTab all =
      ComputeCrossTab(counts, TrendDimension::kModality, TrendDimension::kTask, {}, std::nullopt);
  ASSERT_EQ(all.rows.size(), 9u);
  EXPECT_EQ(all.rows[0].key, "nlp");
  EXPECT_EQ(all.rows[1].key, "audio");
  EXPECT_EQ(all.rows[2].downloads, 0);
  EXPECT_DOUBLE_EQ(all.cell(2, 0).row_share_pct, 0.0);  // An empty row shares nothing.
  EXPECT_TRUE(all.boundaries.empty());

  const std::vector<CrossCount> audio_only = {{"fill-mask", "audio", 3}};
  const CrossTab audio = ComputeCrossTab(audio_only, TrendDimension::kTask,
                                         TrendDimension::kModality, {}, Modality::kAudio);
  EXPECT_THAT(Keys(audio.columns), ElementsAre("audio"));
  EXPECT_DOUBLE_EQ(audio.cell(0, 0).share_pct, 100.0);
}

TEST(CrossTabTest, OpenDimensionsRankByDownloadsThenKey) {
  const std::vector<CrossCount> counts = {
      {"b", "x", 5}, {"a", "x", 5}, {"c", "y", 9}, {"c", "x", 1}};
  const CrossTab table =
      ComputeCrossTab(counts, TrendDimension::kTask, TrendDimension::kLibrary, {}, std::nullopt);
  EXPECT_THAT(Keys(table.rows), ElementsAre("c", "a", "b"));
  EXPECT_THAT(Keys(table.columns), ElementsAre("x", "y"));
}

TEST(CrossTabTest, DimensionsMustBeTwoDifferentClassDimensions) {
  EXPECT_TRUE(ValidateCrossTabDimensions(TrendDimension::kModality, TrendDimension::kSize).ok());
  const absl::Status same =
      ValidateCrossTabDimensions(TrendDimension::kTask, TrendDimension::kTask);
  EXPECT_EQ(same.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(same), "columns");
  const absl::Status top =
      ValidateCrossTabDimensions(TrendDimension::kTopModels, TrendDimension::kSize);
  EXPECT_EQ(FieldOf(top), "rows");
  EXPECT_THAT(top.message(), HasSubstr("not a cross-tab dimension"));
}

}  // namespace
}  // namespace hubstats
