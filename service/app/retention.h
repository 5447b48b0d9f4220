// Retention: per-day detail is kept for the last `days` UTC days; every older whole month is
// folded into monthly totals (Store::FoldMonth) in every shard, so the store and every read
// model stay bounded however long the service runs. All-time answers, whole-month ranges and
// month trends stay exact; a range that splits a folded month is refused (ReadModel::CheckRange).
// The boundary is RetentionBoundary (core/period.h).
//
// Every replica runs it: the store folds each month once, whoever asks first, and the others
// find nothing left to fold.
//
// Thread-safe. Owns one thread from Start() until destruction.
#ifndef HUBSTATS_SERVICE_APP_RETENTION_H_
#define HUBSTATS_SERVICE_APP_RETENTION_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/day.h"
#include "core/period.h"
#include "store/store.h"

namespace hubstats {

// The rolling window (30 days) and the days a late event may name must stay per day.
inline constexpr int kMinRetentionDays = 31;

struct RetentionOptions {
  int days = 400;  // At least kMinRetentionDays.
  absl::Duration interval = absl::Minutes(10);
  std::function<absl::Time()> clock = [] { return absl::Now(); };
  // Called with every store failure (retried at the next interval), and with every month
  // folded; for logs. On the retention thread (or RunOnce's caller).
  std::function<void(const absl::Status&)> on_error;
  std::function<void(uint32_t shard, Day month)> on_fold;
};

class Retention {
 public:
  // `store` must outlive the retention task. `options.days` must be >= kMinRetentionDays.
  Retention(Store& store, RetentionOptions options);
  ~Retention();

  // Runs RunOnce now and then every interval, on the retention thread.
  void Start();

  // Folds every month before the boundary, in every shard, on the caller's thread; returns how
  // many months it folded (0 when another replica folded them first). Store errors come back
  // as they are (UNAVAILABLE: retry later); months folded before the error stay folded.
  absl::StatusOr<int> RunOnce();

 private:
  void Run();

  Store& store_;
  const RetentionOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_RETENTION_H_
