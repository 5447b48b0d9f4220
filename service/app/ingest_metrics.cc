#include "app/ingest_metrics.h"

namespace hubstats {

IngestMetrics::IngestMetrics(telemetry::Registry& registry) : registry_(registry) {
  auto& events = registry.AddCounter(
      "hubstats_ingest_events_total",
      "Events of answered ingest batches, by outcome: accepted (counted), rejected (refused by "
      "validation), duplicate (of a batch committed before).",
      {"outcome"});
  accepted_ = &events.WithLabels({"accepted"});
  rejected_ = &events.WithLabels({"rejected"});
  duplicate_ = &events.WithLabels({"duplicate"});
  downloads_ = &registry
                    .AddCounter("hubstats_ingest_downloads_total",
                                "Downloads of the accepted events (the sum of their counts).")
                    .Get();
  auto& batches = registry.AddCounter(
      "hubstats_ingest_batches_total",
      "Ingest batches by outcome: committed, duplicate (committed before), failed (ended with an "
      "error: the client sends it again).",
      {"outcome"});
  batches_committed_ = &batches.WithLabels({"committed"});
  batches_duplicate_ = &batches.WithLabels({"duplicate"});
  batches_failed_ = &batches.WithLabels({"failed"});
  windows_ =
      &registry.AddCounter("hubstats_commit_windows_total", "Commit windows committed.").Get();
  retries_ = &registry
                  .AddCounter("hubstats_commit_retries_total",
                              "Window commits repeated because the store was unavailable.")
                  .Get();
  commit_seconds_ = &registry
                         .AddHistogram("hubstats_commit_duration_seconds",
                                       "Time to commit a window, store retries included.",
                                       telemetry::LatencyBuckets())
                         .Get();
  fill_seconds_ = &registry
                       .AddHistogram("hubstats_commit_window_fill_seconds",
                                     "Time from a window's first batch until the window closed.",
                                     telemetry::LatencyBuckets())
                       .Get();
  window_events_ = &registry
                        .AddHistogram("hubstats_commit_window_events", "Valid events per window.",
                                      telemetry::ExponentialBuckets(1, 4, 11))
                        .Get();
  window_batches_ = &registry
                         .AddHistogram("hubstats_commit_window_batches", "Batches per window.",
                                       telemetry::ExponentialBuckets(1, 2, 11))
                         .Get();
}

void IngestMetrics::Record(const CommittedWindow& window) {
  windows_->Increment();
  retries_->Increment(static_cast<uint64_t>(window.retries));
  commit_seconds_->Observe(absl::ToDoubleSeconds(window.committing));
  fill_seconds_->Observe(absl::ToDoubleSeconds(window.filling));
  window_events_->Observe(static_cast<double>(window.events));
  window_batches_->Observe(static_cast<double>(window.batches.size()));
  for (const absl::StatusOr<IngestOutcome>& outcome : window.outcomes) {
    if (!outcome.ok()) {
      batches_failed_->Increment();
    } else if (outcome->duplicate) {
      batches_duplicate_->Increment();
      duplicate_->Increment(static_cast<uint64_t>(outcome->accepted + outcome->rejected));
    } else {
      batches_committed_->Increment();
      accepted_->Increment(static_cast<uint64_t>(outcome->accepted));
      rejected_->Increment(static_cast<uint64_t>(outcome->rejected));
      downloads_->Increment(static_cast<uint64_t>(outcome->accepted_downloads));
    }
  }
}

void IngestMetrics::WatchBudget(const IngestBudget& budget) {
  registry_.AddGaugeCallback("hubstats_ingest_inflight_bytes",
                             "Bytes ingest holds now: reservations and decoded batches.",
                             [&budget] { return static_cast<double>(budget.held()); });
  registry_.AddGaugeCallback("hubstats_ingest_inflight_limit_bytes",
                             "The most ingest may hold (--max-inflight-mb).",
                             [&budget] { return static_cast<double>(budget.limit()); });
}

}  // namespace hubstats
