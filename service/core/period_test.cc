#include "core/period.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

Day D(absl::string_view text) { return *Day::Parse(text); }

TEST(PeriodTest, WeeksStartOnMonday) {
  EXPECT_EQ(PeriodStart(D("2024-09-01"), Granularity::kWeek), D("2024-08-26"));  // Sunday.
  EXPECT_EQ(PeriodStart(D("2024-09-02"), Granularity::kWeek), D("2024-09-02"));  // Monday.
  EXPECT_EQ(PeriodEnd(D("2024-09-02"), Granularity::kWeek), D("2024-09-08"));
  // 1970-01-01 was a Thursday.
  EXPECT_EQ(PeriodStart(D("1970-01-01"), Granularity::kWeek), Day::FromNumber(-3));
}

TEST(PeriodTest, IsoWeeksAcrossYears) {
  // 2021-01-03 (Sunday) belongs to 2020's week 53; 2024-12-30 (Monday) to 2025's week 1.
  EXPECT_EQ(IsoWeekOf(D("2021-01-03")).year, 2020);
  EXPECT_EQ(IsoWeekOf(D("2021-01-03")).week, 53);
  EXPECT_EQ(IsoWeekOf(D("2021-01-04")).week, 1);
  EXPECT_EQ(IsoWeekOf(D("2024-12-30")).year, 2025);
  EXPECT_EQ(IsoWeekOf(D("2024-12-30")).week, 1);
  EXPECT_EQ(IsoWeekOf(D("2026-12-02")).week, 49);
  const std::vector<Period> periods =
      PeriodsOf(D("2020-12-30"), D("2021-01-05"), Granularity::kWeek);
  ASSERT_EQ(periods.size(), 2u);
  EXPECT_EQ(periods[0], (Period{D("2020-12-28"), D("2020-12-30"), D("2021-01-03")}));
  EXPECT_EQ(periods[1], (Period{D("2021-01-04"), D("2021-01-04"), D("2021-01-05")}));
}

TEST(PeriodTest, MonthsOfEveryLength) {
  EXPECT_EQ(PeriodEnd(D("2023-02-10"), Granularity::kMonth), D("2023-02-28"));
  EXPECT_EQ(PeriodEnd(D("2024-02-10"), Granularity::kMonth), D("2024-02-29"));  // Leap year.
  EXPECT_EQ(PeriodEnd(D("2100-02-01"), Granularity::kMonth), D("2100-02-28"));  // Not leap.
  EXPECT_EQ(PeriodEnd(D("2024-04-30"), Granularity::kMonth), D("2024-04-30"));
  EXPECT_EQ(PeriodEnd(D("2024-12-31"), Granularity::kMonth), D("2024-12-31"));
  EXPECT_EQ(PeriodStart(D("2024-02-29"), Granularity::kMonth), D("2024-02-01"));
  const std::vector<Period> periods =
      PeriodsOf(D("2024-01-31"), D("2024-03-01"), Granularity::kMonth);
  ASSERT_EQ(periods.size(), 3u);
  EXPECT_EQ(periods[0], (Period{D("2024-01-01"), D("2024-01-31"), D("2024-01-31")}));
  EXPECT_EQ(periods[1], (Period{D("2024-02-01"), D("2024-02-01"), D("2024-02-29")}));
  EXPECT_EQ(periods[2], (Period{D("2024-03-01"), D("2024-03-01"), D("2024-03-01")}));
}

TEST(PeriodTest, PeriodsTileTheRangeAndCountMatches) {
  for (Granularity granularity : {Granularity::kDay, Granularity::kWeek, Granularity::kMonth}) {
    for (int length : {0, 1, 6, 7, 30, 366, 800}) {
      const Day first = D("2023-12-27"), last = Day::FromNumber(first.number() + length);
      const std::vector<Period> periods = PeriodsOf(first, last, granularity);
      ASSERT_FALSE(periods.empty());
      EXPECT_EQ(static_cast<int64_t>(periods.size()), PeriodCount(first, last, granularity));
      EXPECT_EQ(periods.front().first, first);
      EXPECT_EQ(periods.back().last, last);
      for (size_t i = 0; i < periods.size(); ++i) {
        EXPECT_EQ(PeriodStart(periods[i].first, granularity), periods[i].start);
        EXPECT_EQ(PeriodStart(periods[i].last, granularity), periods[i].start);
        if (i > 0) {
          EXPECT_EQ(periods[i].first.number(), periods[i - 1].last.number() + 1);
        }
      }
    }
  }
  EXPECT_EQ(PeriodCount(D("2024-01-02"), D("2024-01-01"), Granularity::kDay), 0);
}

TEST(PeriodTest, ParsesGranularityNames) {
  EXPECT_EQ(*ParseGranularity("week"), Granularity::kWeek);
  absl::StatusOr<Granularity> bad = ParseGranularity("quarter");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), testing::HasSubstr("day, week, month"));
}

TEST(RetentionBoundaryTest, IsTheFirstOfTheMonthHoldingTheOldestDayKept) {
  EXPECT_EQ(RetentionBoundary(D("2024-03-02"), 31), D("2024-02-01"));  // Keeps 2024-02-01 on.
  EXPECT_EQ(RetentionBoundary(D("2024-03-01"), 31), D("2024-01-01"));  // 2024-01-31.
  EXPECT_EQ(RetentionBoundary(D("2024-03-02"), 30), D("2024-02-01"));  // 2024-02-02.
  EXPECT_EQ(RetentionBoundary(D("2024-03-02"), 1), D("2024-03-01"));
  EXPECT_EQ(RetentionBoundary(D("2025-02-03"), 400), D("2024-01-01"));  // 2024-01-01 itself.
  EXPECT_EQ(RetentionBoundary(D("2025-02-04"), 400), D("2024-01-01"));  // 2024-01-02.
  EXPECT_EQ(RetentionBoundary(D("2025-03-02"), 400), D("2024-01-01"));  // 2024-01-28.
  EXPECT_EQ(RetentionBoundary(D("2025-03-06"), 400), D("2024-02-01"));  // 2024-02-01.
}

}  // namespace
}  // namespace hubstats
