// IngestMetrics: what ingest did, counted from the GroupCommitter's windows
// (GroupCommitOptions::on_window) and read from the IngestBudget at scrape time.
//
//   hubstats_ingest_events_total{outcome}    events of answered batches: accepted (counted),
//                                            rejected (refused by validation), duplicate (all
//                                            events of a batch committed before)
//   hubstats_ingest_downloads_total          downloads of the accepted events
//   hubstats_ingest_batches_total{outcome}   batches: committed, duplicate, failed (ended with
//                                            an error; the client re-sends them)
//   hubstats_commit_windows_total, hubstats_commit_retries_total
//   hubstats_commit_duration_seconds         a window's commit, store retries included
//   hubstats_commit_window_fill_seconds      from a window's first batch until it closed
//   hubstats_commit_window_events            events per window (histogram)
//   hubstats_commit_window_batches           batches per window (histogram)
//   hubstats_ingest_inflight_bytes           IngestBudget::held(), at scrape time
//   hubstats_ingest_inflight_limit_bytes     --max-inflight-mb
//
// Thread-safe. Borrows the registry (and the budget, through WatchBudget), which must outlive
// every scrape.
#ifndef HUBSTATS_SERVICE_APP_INGEST_METRICS_H_
#define HUBSTATS_SERVICE_APP_INGEST_METRICS_H_

#include "app/group_commit.h"
#include "app/ingest_budget.h"
#include "telemetry/metrics.h"

namespace hubstats {

class IngestMetrics {
 public:
  explicit IngestMetrics(telemetry::Registry& registry);

  // Counts one committed window; fits GroupCommitOptions::on_window.
  void Record(const CommittedWindow& window);
  // Reports the budget's held bytes and limit at every scrape.
  void WatchBudget(const IngestBudget& budget);

 private:
  telemetry::Registry& registry_;
  // Series, looked up once.
  telemetry::Counter* accepted_;
  telemetry::Counter* rejected_;
  telemetry::Counter* duplicate_;
  telemetry::Counter* downloads_;
  telemetry::Counter* batches_committed_;
  telemetry::Counter* batches_duplicate_;
  telemetry::Counter* batches_failed_;
  telemetry::Counter* windows_;
  telemetry::Counter* retries_;
  telemetry::Histogram* commit_seconds_;
  telemetry::Histogram* fill_seconds_;
  telemetry::Histogram* window_events_;
  telemetry::Histogram* window_batches_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_INGEST_METRICS_H_
