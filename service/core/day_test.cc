#include "core/day.h"

#include <random>

#include "core/field_error.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

TEST(DayTest, RoundTripsAndOrders) {
  absl::StatusOr<Day> day = Day::Parse("2024-09-20");
  ASSERT_TRUE(day.ok());
  EXPECT_EQ(day->ToString(), "2024-09-20");
  EXPECT_EQ(Day::FromNumber(0).ToString(), "1970-01-01");
  EXPECT_EQ(Day::FromNumber(day->number()), *day);
  EXPECT_LT(*Day::Parse("2024-02-29"), *Day::Parse("2024-03-01"));
  EXPECT_EQ(Day::Parse("2024-03-01")->number() - Day::Parse("2024-02-28")->number(), 2);
}

TEST(DayTest, UtcDateOfTime) {
  // 2024-09-20T23:59:59Z and the next second fall on different days.
  EXPECT_EQ(Day::FromTime(absl::FromUnixSeconds(1726876799)).ToString(), "2024-09-20");
  EXPECT_EQ(Day::FromTime(absl::FromUnixSeconds(1726876800)).ToString(), "2024-09-21");
}

TEST(DayTest, RejectsInvalidDates) {
  for (const char* text : {"2023-02-29", "2024-13-01", "2024-00-10", "2024-9-1", "20240901",
                           "2024-09-31", "abcd-ef-gh", "1969-12-31"}) {
    absl::StatusOr<Day> day = Day::Parse(text, "range.start");
    EXPECT_EQ(day.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(FieldOf(day.status()), "range.start") << text;
  }
  EXPECT_FALSE(Day::FromCivil(2024, 2, 30).ok());
}

TEST(DayRangeTest, ContainsIsInclusive) {
  DayRange range{*Day::Parse("2024-09-01"), *Day::Parse("2024-09-30")};
  EXPECT_TRUE(range.Contains(*Day::Parse("2024-09-01")));
  EXPECT_TRUE(range.Contains(*Day::Parse("2024-09-30")));
  EXPECT_FALSE(range.Contains(*Day::Parse("2024-10-01")));
  EXPECT_TRUE(DayRange{}.all_time());
  EXPECT_TRUE(DayRange{}.Contains(Day::FromNumber(1)));
  EXPECT_EQ(range.ToString(), "2024-09-01..2024-09-30");
}

TEST(DayRangeTest, RejectsReversedRange) {
  DayRange range{*Day::Parse("2024-09-02"), *Day::Parse("2024-09-01")};
  absl::Status status = ValidateDayRange(range);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(status), "range.end");
  EXPECT_TRUE(ValidateDayRange({*Day::Parse("2024-09-01"), *Day::Parse("2024-09-01")}).ok());
}

}  // namespace
}  // namespace hubstats

namespace hubstats {
namespace {

// Day::FromTime divides Unix seconds; it must agree with a civil-time conversion everywhere,
// midnights, negative times and nanoseconds included.
TEST(DayTest, FromTimeAgreesWithCivilTime) {
  const absl::CivilDay epoch(1970, 1, 1);
  std::mt19937_64 random(5);
  for (int i = 0; i < 100'000; ++i) {
    const int64_t seconds = static_cast<int64_t>(random() % 8'000'000'000) - 1'000'000'000;
    for (const absl::Time time :
         {absl::FromUnixSeconds(seconds), absl::FromUnixSeconds(seconds) - absl::Nanoseconds(1),
          absl::FromUnixSeconds(seconds - seconds % 86'400)}) {
      ASSERT_EQ(Day::FromTime(time).number(), absl::ToCivilDay(time, absl::UTCTimeZone()) - epoch)
          << absl::FormatTime(time);
    }
  }
}

}  // namespace
}  // namespace hubstats
