#include "core/event.h"

#include "core/field_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

using ::testing::HasSubstr;

const absl::Time kReceived = absl::FromUnixSeconds(1726833600);  // 2024-09-20T12:00:00Z

absl::Status ErrorOf(const RawEvent& event) { return ValidateEvent(event, kReceived).status(); }

TEST(EventTest, DefaultsCountToOneAndTimeToReceived) {
  absl::StatusOr<ValidEvent> event = ValidateEvent({.model_id = "gpt2"}, kReceived);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->count, 1);
  EXPECT_EQ(event->day.ToString(), "2024-09-20");
  EXPECT_EQ(event->author, "(canonical)");
}

TEST(EventTest, UsesTimestampCountAndRevision) {
  absl::StatusOr<ValidEvent> event = ValidateEvent({.model_id = "org/m",
                                                    .timestamp_seconds = 1420070400,
                                                    .count = 1'000'000'000,
                                                    .revision = "main"},
                                                   kReceived);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->day.ToString(), "2015-01-01");
  EXPECT_EQ(event->count, 1'000'000'000);
  EXPECT_EQ(event->revision, "main");
  EXPECT_EQ(event->author, "org");
}

TEST(EventTest, TimestampBounds) {
  // 2014-12-31T23:59:59Z is one second too early.
  absl::Status early = ErrorOf({.model_id = "a/b", .timestamp_seconds = 1420070399});
  EXPECT_EQ(FieldOf(early), "timestamp");
  EXPECT_THAT(ReasonOf(early), HasSubstr("before 2015-01-01"));
  // Exactly 24 hours ahead is accepted, one nanosecond more is not.
  const int64_t ahead = absl::ToUnixSeconds(kReceived + absl::Hours(24));
  EXPECT_TRUE(ValidateEvent({.model_id = "a/b", .timestamp_seconds = ahead}, kReceived).ok());
  absl::Status late =
      ErrorOf({.model_id = "a/b", .timestamp_seconds = ahead, .timestamp_nanos = 1});
  EXPECT_EQ(FieldOf(late), "timestamp");
  EXPECT_THAT(ReasonOf(late), HasSubstr("more than 24 hours"));
  EXPECT_EQ(
      FieldOf(ErrorOf(
          {.model_id = "a/b", .timestamp_seconds = 1500000000, .timestamp_nanos = 1'000'000'000})),
      "timestamp");
}

TEST(EventTest, LatenessCountsWholeDays) {
  // Received 2024-09-20 at 00:30: with 7 days allowed, all of 2024-09-13 is accepted (even its
  // first second, 7 days and 30 minutes earlier) and nothing of 2024-09-12.
  const absl::Time received = absl::FromUnixSeconds(1726792200);  // 2024-09-20T00:30:00Z
  const EventTimeLimits week{.max_lateness_days = 7};
  const int64_t first_second = 1726185600;  // 2024-09-13T00:00:00Z
  absl::StatusOr<ValidEvent> edge =
      ValidateEvent({.model_id = "a/b", .timestamp_seconds = first_second}, received, week);
  ASSERT_TRUE(edge.ok()) << edge.status();
  EXPECT_EQ(edge->day.ToString(), "2024-09-13");
  absl::Status late =
      ValidateEvent({.model_id = "a/b", .timestamp_seconds = first_second - 1}, received, week)
          .status();
  EXPECT_EQ(FieldOf(late), "timestamp");
  EXPECT_EQ(ReasonOf(late),
            "2024-09-12 is 8 days before the server's day (2024-09-20); this server counts "
            "events at most 7 days late");
  // Without a limit any day since 2015 counts; with 0 only the server's day (and the next 24
  // hours); an event without a timestamp is never late.
  EXPECT_TRUE(ValidateEvent({.model_id = "a/b", .timestamp_seconds = 1420070400}, received).ok());
  const EventTimeLimits today_only{.max_lateness_days = 0};
  EXPECT_TRUE(ValidateEvent({.model_id = "a/b", .timestamp_seconds = 1726790400}, received,
                            today_only)
                  .ok());  // 2024-09-20T00:00:00Z
  EXPECT_FALSE(
      ValidateEvent({.model_id = "a/b", .timestamp_seconds = 1726790399}, received, today_only)
          .ok());
  EXPECT_TRUE(ValidateEvent({.model_id = "a/b"}, received, today_only).ok());
}

TEST(EventTest, LateEventsCountIntoAllTimeOnlyWhenConfigured) {
  const absl::Time received = absl::FromUnixSeconds(1726792200);  // 2024-09-20T00:30:00Z
  const EventTimeLimits week{.max_lateness_days = 7, .late = LatePolicy::kAllTimeOnly};
  const int64_t first_second = 1726185600;  // 2024-09-13T00:00:00Z: the last day on time.
  absl::StatusOr<ValidEvent> on_time = ValidateEvent(
      {.model_id = "a/b", .timestamp_seconds = first_second, .revision = "main"}, received, week);
  ASSERT_TRUE(on_time.ok()) << on_time.status();
  EXPECT_FALSE(on_time->all_time_only);
  absl::StatusOr<ValidEvent> late = ValidateEvent(
      {.model_id = "a/b", .timestamp_seconds = first_second - 1, .count = 3}, received, week);
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_TRUE(late->all_time_only);
  EXPECT_EQ(late->count, 3);
  // The other rules still apply to a late event: it is late, not exempt.
  EXPECT_EQ(FieldOf(ValidateEvent({.model_id = "a/b",
                                   .timestamp_seconds = first_second - 1,
                                   .revision = "has space"},
                                  received, week)
                        .status()),
            "revision");
  EXPECT_EQ(
      FieldOf(ValidateEvent({.model_id = "a/b", .timestamp_seconds = 1420070399}, received, week)
                  .status()),
      "timestamp");  // Before 2015: refused whatever the policy.
  // Without a limit nothing is late.
  const EventTimeLimits any{.late = LatePolicy::kAllTimeOnly};
  absl::StatusOr<ValidEvent> old =
      ValidateEvent({.model_id = "a/b", .timestamp_seconds = 1420070400}, received, any);
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->all_time_only);
}

TEST(EventTest, CountBounds) {
  for (int64_t count : {int64_t{0}, int64_t{-1}, int64_t{1'000'000'001}}) {
    absl::Status status = ErrorOf({.model_id = "a/b", .count = count});
    EXPECT_EQ(FieldOf(status), "count") << count;
    EXPECT_THAT(ReasonOf(status), HasSubstr("between 1 and 1000000000")) << count;
  }
}

TEST(EventTest, RevisionRules) {
  EXPECT_EQ(FieldOf(ErrorOf({.model_id = "a/b", .revision = "has space"})), "revision");
  EXPECT_EQ(FieldOf(ErrorOf({.model_id = "a/b", .revision = std::string(256, 'r')})), "revision");
  EXPECT_TRUE(ValidateEvent({.model_id = "a/b", .revision = "refs/pr/1"}, kReceived).ok());
}

TEST(EventTest, ModelIdErrorsComeFirst) {
  EXPECT_EQ(FieldOf(ErrorOf({.model_id = "bad id", .count = 0})), "model_id");
}

}  // namespace
}  // namespace hubstats
