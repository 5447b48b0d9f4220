#include "app/read_model_metrics.h"

namespace hubstats {

ReadModelMetrics::ReadModelMetrics(telemetry::Registry& registry, const ReadModel& model,
                                   std::function<absl::Time()> now)
    : now_(std::move(now)), caught_up_(absl::ToUnixNanos(now_())), last_applied_(0) {
  registry.AddGaugeCallback("hubstats_read_model_ready",
                            "1 once the read model that answers queries is loaded.",
                            [&model] { return model.ready() ? 1.0 : 0.0; });
  records_ = &registry
                  .AddCounter("hubstats_read_model_records_applied_total",
                              "Change records the read model applied from the store's log.")
                  .Get();
  auto& loads = registry.AddCounter(
      "hubstats_read_model_shard_loads_total",
      "Shards the read model loaded from a snapshot, by reason: start, gap (the store's log "
      "was trimmed past the model, or went back).",
      {"reason"});
  start_loads_ = &loads.WithLabels({"start"});
  gap_loads_ = &loads.WithLabels({"gap"});
  errors_ = &registry
                 .AddCounter("hubstats_read_model_follow_errors_total",
                             "Loads and polls of the store's log that failed (they are retried).")
                 .Get();
  registry.AddGaugeCallback(
      "hubstats_read_model_lag_seconds",
      "Seconds since the read model last read the end of every shard's log (it was then at the "
      "store's version); since start until it first did.",
      [this] { return SecondsSince(caught_up_); });
  registry.AddGaugeCallback(
      "hubstats_read_model_last_apply_age_seconds",
      "Seconds since the read model last applied a change record; -1 before the first.", [this] {
        return last_applied_.load(std::memory_order_relaxed) == 0 ? -1.0
                                                                  : SecondsSince(last_applied_);
      });
}

std::function<void(absl::Duration held)> WriteHoldRecorder(telemetry::Registry& registry) {
  // 0.1 ms to about 100 ms: a change record is held well under a millisecond when all is well.
  telemetry::Histogram& holds =
      registry
          .AddHistogram("hubstats_read_model_write_hold_seconds",
                        "How long each exclusive hold of the read model's lock lasted (a change "
                        "record, a shard load, maintenance, a ranking built); queries wait "
                        "behind it.",
                        telemetry::ExponentialBuckets(0.0001, 2, 11))
          .Get();
  return [&holds](absl::Duration held) { holds.Observe(absl::ToDoubleSeconds(held)); };
}

void ReadModelMetrics::Record(const FollowerProgress& progress) {
  const int64_t now = absl::ToUnixNanos(now_());
  if (progress.records_applied > 0) {
    records_->Increment(static_cast<uint64_t>(progress.records_applied));
    last_applied_.store(now, std::memory_order_relaxed);
  }
  start_loads_->Increment(static_cast<uint64_t>(progress.shards_loaded));
  gap_loads_->Increment(static_cast<uint64_t>(progress.shards_reloaded));
  if (progress.caught_up) caught_up_.store(now, std::memory_order_relaxed);
}

void ReadModelMetrics::RecordError(const absl::Status& /*status*/) { errors_->Increment(); }

double ReadModelMetrics::SecondsSince(const std::atomic<int64_t>& unix_nanos) const {
  return absl::ToDoubleSeconds(now_() -
                               absl::FromUnixNanos(unix_nanos.load(std::memory_order_relaxed)));
}

}  // namespace hubstats
