// RateLimiter: the ingest rate of one token (events per second), shared by all its streams.
//
// A token bucket that may go into debt. A batch that was read is always taken (refusing it
// would cost the client a retry and gain nothing: its bytes are already here); the balance may
// then fall below zero, and every stream of the token stops reading until the debt is repaid
// (gRPC flow control holds its clients back). The bucket holds at most one second of events.
// Over any interval of length T a token therefore ingests at most
// rate x T + rate + one batch per stream: the rate is exact up to one second's burst and the
// batches read when the balance was still positive.
//
// Thread-safe.
#ifndef HUBSTATS_SERVICE_SECURITY_RATE_LIMITER_H_
#define HUBSTATS_SERVICE_SECURITY_RATE_LIMITER_H_

#include <cstdint>
#include <mutex>

#include "absl/time/time.h"

namespace hubstats {

class RateLimiter {
 public:
  // Starts full (one second of events). `events_per_second` >= 1.
  RateLimiter(int64_t events_per_second, absl::Time now);

  // Takes `events` from the balance, which may go below zero.
  void Take(int64_t events, absl::Time now);
  // Zero while the balance is not negative; otherwise how long until it is back at zero.
  absl::Duration Debt(absl::Time now);
  // A new rate (the token file changed); the balance is kept, capped at the new capacity.
  void SetRate(int64_t events_per_second);
  int64_t rate() const;

 private:
  void Refill(absl::Time now);  // Requires mutex_.

  mutable std::mutex mutex_;
  double rate_;     // Events per second.
  double balance_;  // Events; at most rate_ (one second).
  absl::Time last_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_SECURITY_RATE_LIMITER_H_
