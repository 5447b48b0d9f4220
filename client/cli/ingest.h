// Reliable ingestion for the CLI: streams a JSON-lines file of events to one of several
// servers with exactly-once delivery. Batches are numbered by their position in the file (the
// n-th batch of --batch-size lines is sequence n), so re-running a job with the same producer
// id, file and batch size re-sends safely: committed batches come back as duplicates.
#ifndef HUBSTATS_CLIENT_CLI_INGEST_H_
#define HUBSTATS_CLIENT_CLI_INGEST_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <istream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "hubstats/v1/hubstats.pb.h"

namespace hubstats::cli {

struct LineError {
  int line = 0;
  std::string reason;
};

struct IngestSettings {
  std::vector<std::string> targets;  // host:port, DNS names included; tried in turn.
  std::string producer_id;
  int batch_size = 1000;
  // Give up after this long without any batch being acknowledged.
  absl::Duration retry_for = absl::Minutes(5);
  int max_in_flight = 8;  // Batches sent and not yet acknowledged.
};

struct IngestSummary {
  int64_t accepted = 0;             // Events counted by this run.
  int64_t duplicates = 0;           // Valid events of batches that had been committed before.
  int64_t rejected = 0;             // Lines refused (malformed here, or invalid at the server).
  int64_t accepted_downloads = 0;   // Sum of the counts of `accepted`.
  int64_t duplicate_downloads = 0;  // Sum of the counts of `duplicates`.
  int reconnects = 0;
  std::vector<LineError> errors;  // By line.
  grpc::Status status;            // OK, or what ended the run early.
};

// Streams `input`, reconnecting with exponential backoff (100 ms .. 5 s, jittered) after any
// retryable failure (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, CANCELLED, INTERNAL, UNKNOWN,
// RESOURCE_EXHAUSTED), to the next target, re-sending every batch not yet acknowledged, in
// order. `log` receives one line per reconnect. The summary is exact for what was
// acknowledged; `status` is not OK when the run stopped early.
IngestSummary IngestEvents(std::istream& input, const IngestSettings& settings,
                           const std::function<void(const std::string&)>& log);

// A server's rejection of one item as text: "field: reason", or the reason alone.
std::string RejectionText(const v1::Rejection& rejection);

// A producer id unique to this run: "cli-<host>-<pid>-<random>".
std::string NewProducerId();

// True for status codes after which re-sending to some server may succeed.
bool IsRetryable(grpc::StatusCode code);

}  // namespace hubstats::cli

#endif  // HUBSTATS_CLIENT_CLI_INGEST_H_
