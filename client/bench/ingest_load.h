#ifndef HUBSTATS_CLIENT_BENCH_INGEST_LOAD_H_
#define HUBSTATS_CLIENT_BENCH_INGEST_LOAD_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "workload.h"

namespace hubstats::bench {

struct IngestLoadOptions {
  std::string target = "localhost:50051";
  int connections = 4;  // Streams, each on its own connection, each a producer of its own.
  int batch_size = 1000;
  int in_flight = 16;               // Unacknowledged batches per stream.
  int days = 1;                     // Events spread over the `days` days ending today (UTC).
  int64_t pool_events = 1'000'000;  // Events generated up front and cycled.
  int64_t max_events = 0;           // Stop after this many events sent; 0: run until `stop`.
  // Also stop this long after the first batch could be sent (timed once every stream's batches
  // are generated, which takes seconds at Hub scale or in a sanitized build).
  absl::Duration duration = absl::InfiniteDuration();
  double rate = 0;  // Events/s over all streams; 0: as fast as acks allow.
  // Set once a stream wrote its first batch (when not null): the load is running.
  std::atomic<bool>* started = nullptr;
  bool packed = true;  // Batches in IngestRequest.packed columns, or as `events`.
  // Freshness probe: after acknowledgements, a GetTotals with the ack's version token as
  // `min_version` to this server (empty: no probe). The time from the ack to its answer bounds
  // how long an acknowledged batch takes to show in that server's answers.
  std::string lag_target;
};

struct IngestResult {
  int64_t events = 0;  // Acknowledged as accepted.
  double seconds = 0;
  std::vector<double> ack_ms;  // Per batch: from its write to its acknowledgement.
  int64_t failed_streams = 0;  // Streams that ended with an error or left batches unanswered.
  std::vector<double> lag_ms;  // Freshness probe: ack to min_version answer, per probe.
  int64_t lag_failures = 0;
  std::string first_lag_failure;
};

// Streams the hub's Zipf-distributed events until `stop` is set (or `max_events` were sent, or
// `duration` passed),
// then half-closes every stream and returns once each has ended: every stream ends on its own,
// also when the server ends it early (the writer stops waiting for acknowledgement slots once
// the reader has seen the end). A stream that ends OK with batches unanswered counts as failed.
// Progress and failures are printed to stderr.
IngestResult RunIngestLoad(const IngestLoadOptions& options, const Hub& hub,
                           std::atomic<bool>& stop);

// Unix seconds of today's midnight, UTC.
int64_t TodayStart();

// Prints one progress line to stderr.
void Progress(const std::string& line);

}  // namespace hubstats::bench

#endif  // HUBSTATS_CLIENT_BENCH_INGEST_LOAD_H_
