#include "security/rate_limiter.h"

#include "gtest/gtest.h"

namespace hubstats {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

TEST(RateLimiterTest, StartsWithOneSecondOfEvents) {
  RateLimiter limiter(1000, kStart);
  limiter.Take(1000, kStart);
  EXPECT_EQ(limiter.Debt(kStart), absl::ZeroDuration());
  limiter.Take(1, kStart);
  EXPECT_GT(limiter.Debt(kStart), absl::ZeroDuration());
}

TEST(RateLimiterTest, ADebtIsRepaidAtTheRate) {
  RateLimiter limiter(1000, kStart);
  limiter.Take(6000, kStart);  // 5000 in debt: 5 s.
  EXPECT_EQ(limiter.Debt(kStart), absl::Seconds(5));
  EXPECT_EQ(limiter.Debt(kStart + absl::Seconds(2)), absl::Seconds(3));
  EXPECT_EQ(limiter.Debt(kStart + absl::Seconds(5)), absl::ZeroDuration());
  // The balance refills to one second at most, however long the pause.
  limiter.Take(1000, kStart + absl::Hours(1));
  EXPECT_EQ(limiter.Debt(kStart + absl::Hours(1)), absl::ZeroDuration());
  limiter.Take(1000, kStart + absl::Hours(1));
  EXPECT_EQ(limiter.Debt(kStart + absl::Hours(1)), absl::Seconds(1));
}

TEST(RateLimiterTest, OverTimeTheRateHolds) {
  // A greedy client takes 300 events whenever it is not in debt: over 60 s it gets the rate x
  // 60 s, plus the first second's balance, plus one batch.
  RateLimiter limiter(1000, kStart);
  int64_t taken = 0;
  for (absl::Time now = kStart; now < kStart + absl::Seconds(60); now += absl::Milliseconds(10)) {
    if (limiter.Debt(now) == absl::ZeroDuration()) {
      limiter.Take(300, now);
      taken += 300;
    }
  }
  EXPECT_LE(taken, 1000 * 60 + 1000 + 300);
  EXPECT_GE(taken, 1000 * 60 - 300);
}

TEST(RateLimiterTest, ANewRateCapsTheBalance) {
  RateLimiter limiter(1000, kStart);
  limiter.SetRate(10);
  EXPECT_EQ(limiter.rate(), 10);
  limiter.Take(20, kStart);  // The balance was capped at 10: now 10 in debt.
  EXPECT_EQ(limiter.Debt(kStart), absl::Seconds(1));
}

}  // namespace
}  // namespace hubstats
