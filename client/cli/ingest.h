// Reliable ingestion for the CLI: streams a file of events (see input.h) to one of several
// servers with exactly-once delivery.
//
// Batches are cut from the file deterministically: a batch ends after --batch-size events, or
// before the event that would make its request larger than --batch-bytes. The n-th batch is
// sequence n of the producer, so re-running a job with the same producer id, file, batch size
// and batch bytes re-sends the same batches: committed ones come back as duplicates. A line
// too large for any batch is rejected by its line number and skipped; the rest still counts.
#ifndef HUBSTATS_CLIENT_CLI_INGEST_H_
#define HUBSTATS_CLIENT_CLI_INGEST_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/channel.h"
#include "hubstats/v1/hubstats.pb.h"
#include "input.h"

namespace hubstats::cli {

// The default --batch-bytes: well below the server's message limit (--max-message-mb, 16 MiB
// by default).
inline constexpr int64_t kDefaultBatchBytes = 4 << 20;
// The largest --batch-bytes: the server's default message limit.
inline constexpr int64_t kMaxBatchBytes = 16 << 20;

struct IngestSettings {
  std::vector<std::string> targets;  // host:port, DNS names included; tried in turn.
  client::ChannelSecurity security;  // TLS and the token.
  std::string producer_id;
  int batch_size = 1000;                     // Events per batch, at most.
  int64_t batch_bytes = kDefaultBatchBytes;  // Bytes of a batch's request, at most.
  // Give up after this long without any batch being acknowledged.
  absl::Duration retry_for = absl::Minutes(5);
  // Retry even while no server has ever answered (--retry-for given: wait for a server that
  // is still starting). Otherwise a run that reached no target fails at once.
  bool retry_before_contact = false;
  int max_in_flight = 8;  // Batches sent and not yet acknowledged.
};

struct IngestSummary {
  int64_t accepted = 0;             // Events counted by this run.
  int64_t duplicates = 0;           // Valid events of batches that had been committed before.
  int64_t rejected = 0;             // Lines refused (malformed here, or invalid at the server).
  int64_t accepted_downloads = 0;   // Sum of the counts of `accepted`.
  int64_t duplicate_downloads = 0;  // Sum of the counts of `duplicates`.
  // Of `accepted`, late events the server counted into all time only (--late-events all-time).
  int64_t accepted_all_time_only = 0;
  int reconnects = 0;
  // A version token holding every acknowledged batch (a query's min_version reads them).
  std::string version;
  std::vector<LineError> errors;  // By line.
  grpc::Status status;            // OK, or what ended the run early.
};

// Streams the events of `input` (an InputReader of ItemKind::kEvent), reconnecting with
// exponential backoff (100 ms .. 5 s, jittered) after any retryable failure (UNAVAILABLE,
// DEADLINE_EXCEEDED, ABORTED, CANCELLED, INTERNAL, UNKNOWN, RESOURCE_EXHAUSTED), to the next
// target, re-sending every batch not yet acknowledged, in order; but when no server has
// answered yet and `retry_before_contact` is false, each target is tried once and the run ends
// UNAVAILABLE. `log` receives one line per reconnect. The summary is exact for what was
// acknowledged; `status` is not OK when the run stopped early.
IngestSummary IngestEvents(InputReader& input, const IngestSettings& settings,
                           const std::function<void(const std::string&)>& log);

// The bytes `event` adds to an IngestRequest (the field's tag and length included).
int64_t FramedSize(const v1::DownloadEvent& event);

// A server's rejection of one item as text: "field: reason", or the reason alone.
std::string RejectionText(const v1::Rejection& rejection);

// A producer id unique to this run: "cli-<host>-<pid>-<random>".
std::string NewProducerId();

// True for status codes after which re-sending to some server may succeed.
bool IsRetryable(grpc::StatusCode code);

}  // namespace hubstats::cli

#endif  // HUBSTATS_CLIENT_CLI_INGEST_H_
