#include "core/size_class.h"

#include "core/field_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

using ::testing::HasSubstr;

TEST(SizeClassTest, FineBucketsAreHalfOpen) {
  EXPECT_EQ(FineBucketOf(1), 0);
  EXPECT_EQ(FineBucketOf(999'999), 0);
  EXPECT_EQ(FineBucketOf(1'000'000), 1);
  EXPECT_EQ(FineBucketOf(199'999'999), 7);
  EXPECT_EQ(FineBucketOf(200'000'000), 8);
  EXPECT_EQ(FineBucketOf(1'000'000'000'000), 19);
  EXPECT_EQ(FineBucketOf(kMaxParameters), 19);
  for (int bucket = 0; bucket < kFineBucketCount; ++bucket) {
    EXPECT_EQ(FineBucketOf(FineBucketLower(bucket) == 0 ? 1 : FineBucketLower(bucket)), bucket);
    if (FineBucketUpper(bucket)) {
      EXPECT_EQ(FineBucketOf(*FineBucketUpper(bucket) - 1), bucket);
    }
  }
  EXPECT_EQ(FineBucketLabel(0), "<1M");
  EXPECT_EQ(FineBucketLabel(7), "100M-200M");
  EXPECT_EQ(FineBucketLabel(19), ">=1T");
}

TEST(SizeClassTest, ParsesAndFormatsParameterCounts) {
  EXPECT_EQ(*ParseParameters("200M", "b"), 200'000'000);
  EXPECT_EQ(*ParseParameters("1b", "b"), 1'000'000'000);
  EXPECT_EQ(*ParseParameters("1G", "b"), 1'000'000'000);
  EXPECT_EQ(*ParseParameters("1T", "b"), 1'000'000'000'000);
  EXPECT_EQ(*ParseParameters("1.5B", "b"), 1'500'000'000);
  EXPECT_EQ(*ParseParameters("2e8", "b"), 200'000'000);
  EXPECT_EQ(*ParseParameters("500000000", "b"), 500'000'000);
  for (const char* bad : {"", "M", "-1M", "1.5", "abc", "1e30", "0.1234567M"}) {
    absl::StatusOr<int64_t> parsed = ParseParameters(bad, "boundaries");
    EXPECT_EQ(FieldOf(parsed.status()), "boundaries") << bad;
  }
  EXPECT_EQ(FormatParameters(200'000'000), "200M");
  EXPECT_EQ(FormatParameters(1'500'000'000), "1.5B");
  EXPECT_EQ(FormatParameters(1'000'000'000'000), "1T");
  EXPECT_EQ(FormatParameters(7), "7");
}

TEST(SizeClassTest, DefaultClassesAreTheReports) {
  std::vector<SizeClass> classes = SizeClassesFor(kDefaultBoundaries);
  ASSERT_EQ(classes.size(), 4u);
  EXPECT_EQ(classes[0].label, "<200M");
  EXPECT_EQ(classes[1].label, "200M-500M");
  EXPECT_EQ(classes[2].label, "500M-1B");
  EXPECT_EQ(classes[3].label, ">=1B");
  EXPECT_EQ(classes[0].lower, 0);
  EXPECT_EQ(classes[1].lower, 200'000'000);
  EXPECT_EQ(classes[1].upper, 500'000'000);
  EXPECT_EQ(classes[3].upper, std::nullopt);
}

TEST(SizeClassTest, BoundariesOffTheGridAreClassesToo) {
  const std::vector<int64_t> llm = {7'000'000'000, 13'000'000'000, 70'000'000'000};
  ASSERT_TRUE(ValidateBoundaries(llm).ok());
  std::vector<SizeClass> classes = SizeClassesFor(llm);
  ASSERT_EQ(classes.size(), 4u);
  EXPECT_EQ(classes[0].label, "<7B");
  EXPECT_EQ(classes[1].label, "7B-13B");
  EXPECT_EQ(classes[3].label, ">=70B");
  EXPECT_FALSE(OnSizeGrid(7'000'000'000));
  EXPECT_TRUE(OnSizeGrid(5'000'000'000));
}

TEST(SizeClassTest, ValidatesBoundaries) {
  EXPECT_TRUE(ValidateBoundaries(std::vector<int64_t>{1'000'000, 1'000'000'000'000}).ok());
  absl::Status zero = ValidateBoundaries(std::vector<int64_t>{0, 300'000'000});
  EXPECT_EQ(FieldOf(zero), "boundaries[0]");
  EXPECT_THAT(ReasonOf(zero), HasSubstr("from 1 to 10^15"));
  EXPECT_EQ(FieldOf(ValidateBoundaries(std::vector<int64_t>{500'000'000, 200'000'000})),
            "boundaries[1]");
  EXPECT_EQ(FieldOf(ValidateBoundaries(std::vector<int64_t>{200'000'000, 200'000'000})),
            "boundaries[1]");
  EXPECT_EQ(FieldOf(ValidateBoundaries(std::vector<int64_t>{kMaxParameters + 1})), "boundaries[0]");
  EXPECT_EQ(FieldOf(ValidateBoundaries({})), "boundaries");
  std::vector<int64_t> many;
  for (int64_t i = 1; i <= 65; ++i) many.push_back(i * 1'000'000);
  EXPECT_EQ(FieldOf(ValidateBoundaries(many)), "boundaries");
  many.pop_back();
  EXPECT_TRUE(ValidateBoundaries(many).ok());
}

}  // namespace
}  // namespace hubstats
