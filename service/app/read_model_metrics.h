// ReadModelMetrics: how far this replica's read model (which answers every query) is behind the
// store, counted from the Follower's progress (FollowerOptions::on_progress and on_error) and
// read from the model at scrape time.
//
//   hubstats_read_model_ready                     1 once the model is loaded (health follows it)
//   hubstats_read_model_records_applied_total     change records applied
//   hubstats_read_model_shard_loads_total{reason} shards loaded from a snapshot: start, gap (the
//                                                 log was trimmed past the model or went back)
//   hubstats_read_model_follow_errors_total       failed loads and polls (retried)
//   hubstats_read_model_lag_seconds               since the model last read the end of every
//                                                 shard's log (so it was at the store's version);
//                                                 polls run every --follow-interval-ms, so this
//                                                 stays near that while all is well and grows
//                                                 while the store does not answer; since start
//                                                 until the first such poll
//   hubstats_read_model_last_apply_age_seconds    since the last change record was applied (grows
//                                                 while nothing is written anywhere); -1 before
//   hubstats_read_model_write_hold_seconds        histogram: how long each exclusive hold of the
//                                                 model's lock lasted (a change record, a shard
//                                                 load, maintenance, a ranking built); queries
//                                                 wait behind it (WriteHoldRecorder)
//
// Thread-safe. Borrows the registry and the model, which must outlive every scrape.
#ifndef HUBSTATS_SERVICE_APP_READ_MODEL_METRICS_H_
#define HUBSTATS_SERVICE_APP_READ_MODEL_METRICS_H_

#include <atomic>
#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "app/follower.h"
#include "app/read_model.h"
#include "telemetry/metrics.h"

namespace hubstats {

class ReadModelMetrics {
 public:
  // `now` is the clock (tests pass their own).
  ReadModelMetrics(telemetry::Registry& registry, const ReadModel& model,
                   std::function<absl::Time()> now = absl::Now);

  // Fit FollowerOptions::on_progress and on_error.
  void Record(const FollowerProgress& progress);
  void RecordError(const absl::Status& status);

 private:
  double SecondsSince(const std::atomic<int64_t>& unix_nanos) const;

  const std::function<absl::Time()> now_;
  telemetry::Counter* records_;
  telemetry::Counter* start_loads_;
  telemetry::Counter* gap_loads_;
  telemetry::Counter* errors_;
  std::atomic<int64_t> caught_up_;     // Unix nanoseconds; construction until the first.
  std::atomic<int64_t> last_applied_;  // Unix nanoseconds; 0: never.
};

// Registers hubstats_read_model_write_hold_seconds in `registry` and returns what fits
// ReadModelOptions::on_exclusive_hold. The registry must outlive the callback.
std::function<void(absl::Duration held)> WriteHoldRecorder(telemetry::Registry& registry);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_READ_MODEL_METRICS_H_
