// Catalog upload for the CLI: upserts the records of a file (see input.h) in batches of at most
// --batch-size records and --batch-bytes bytes. An upsert replaces whole records, so a batch is
// simply sent again after a retryable failure.
#ifndef HUBSTATS_CLIENT_CLI_CATALOG_H_
#define HUBSTATS_CLIENT_CLI_CATALOG_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/channel.h"
#include "ingest.h"
#include "input.h"

namespace hubstats::cli {

struct CatalogSettings {
  std::string target;
  client::ChannelSecurity security;  // TLS and the token.
  int batch_size = 1000;
  int64_t batch_bytes = kDefaultBatchBytes;
  absl::Duration timeout = absl::Seconds(30);  // Deadline of each call.
  // Give up on a batch after this long of retryable failures.
  absl::Duration retry_for = absl::Minutes(5);
  // As IngestSettings::retry_before_contact: without it, a run that never reached the server
  // fails at the first failure.
  bool retry_before_contact = false;
};

struct CatalogSummary {
  int64_t accepted = 0;
  int64_t rejected = 0;           // Lines refused (malformed here, or invalid at the server).
  int64_t reclassified = 0;       // Records whose class changed, their history moved with them.
  std::vector<LineError> errors;  // By line.
  grpc::Status status;            // OK, or what ended the upload early.
};

// Upserts the records of `input` (an InputReader of ItemKind::kRecord) on `settings.target`,
// retrying each batch with exponential backoff (100 ms .. 5 s) on retryable failures (see
// IsRetryable). The summary covers the batches written; `status` is not OK when the upload
// stopped early. `log` receives one line per retry.
CatalogSummary UploadCatalog(InputReader& input, const CatalogSettings& settings,
                             const std::function<void(const std::string&)>& log);

}  // namespace hubstats::cli

#endif  // HUBSTATS_CLIENT_CLI_CATALOG_H_
