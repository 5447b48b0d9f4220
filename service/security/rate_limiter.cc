#include "security/rate_limiter.h"

#include <algorithm>

namespace hubstats {

RateLimiter::RateLimiter(int64_t events_per_second, absl::Time now)
    : rate_(static_cast<double>(std::max<int64_t>(events_per_second, 1))),
      balance_(rate_),
      last_(now) {}

void RateLimiter::Refill(absl::Time now) {
  if (now > last_) {
    balance_ = std::min(rate_, balance_ + absl::ToDoubleSeconds(now - last_) * rate_);
    last_ = now;
  }
}

void RateLimiter::Take(int64_t events, absl::Time now) {
  std::lock_guard lock(mutex_);
  Refill(now);
  balance_ -= static_cast<double>(events);
}

absl::Duration RateLimiter::Debt(absl::Time now) {
  std::lock_guard lock(mutex_);
  Refill(now);
  if (balance_ >= 0) return absl::ZeroDuration();
  return absl::Seconds(-balance_ / rate_);
}

void RateLimiter::SetRate(int64_t events_per_second) {
  std::lock_guard lock(mutex_);
  rate_ = static_cast<double>(std::max<int64_t>(events_per_second, 1));
  balance_ = std::min(balance_, rate_);
}

int64_t RateLimiter::rate() const {
  std::lock_guard lock(mutex_);
  return static_cast<int64_t>(rate_);
}

}  // namespace hubstats
