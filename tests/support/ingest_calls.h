// Calls the system tests make over real gRPC: ingest streams driven to the end, totals, and the
// server process's memory. Shared by tests/integration, tests/hostile and the handlers' tests.
#ifndef HUBSTATS_TESTS_SUPPORT_INGEST_CALLS_H_
#define HUBSTATS_TESTS_SUPPORT_INGEST_CALLS_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hubstats/v1/hubstats.grpc.pb.h"

namespace hubstats::test_support {

// A plaintext channel to `target` and the two services' stubs on it.
struct Connection {
  explicit Connection(const std::string& target)
      : channel(grpc::CreateChannel(target, grpc::InsecureChannelCredentials())),
        ingest(v1::IngestService::NewStub(channel)),
        query(v1::QueryService::NewStub(channel)) {}
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::IngestService::Stub> ingest;
  std::unique_ptr<v1::QueryService::Stub> query;
};

// `count` events of `model` (count 1 each), with `revision` when not empty.
v1::IngestRequest Events(int count, const std::string& model, const std::string& revision = "");

struct StreamResult {
  std::vector<v1::IngestResponse> answers;
  grpc::Status status;

  // Sum of accepted_downloads over the answers that are not duplicates: what the server
  // acknowledged as counted by this stream.
  int64_t AcknowledgedDownloads() const;
};

// Writes `batches` on one StreamEvents call (from another thread), reads every answer, and
// finishes the call; within `deadline_s`.
StreamResult Stream(const std::shared_ptr<grpc::Channel>& channel,
                    const std::vector<v1::IngestRequest>& batches, int deadline_s = 120);
StreamResult Stream(v1::IngestService::Stub& stub, const std::vector<v1::IngestRequest>& batches,
                    int deadline_s = 120);

// GetTotals' total_downloads, asked fresh (everything acknowledged anywhere); -1 (and a test
// failure) when the call fails.
int64_t TotalDownloads(v1::QueryService::Stub& query);

// "VmRSS" or "VmHWM" (peak) of a process, in bytes; -1 when it cannot be read.
int64_t MemoryOf(pid_t pid, const std::string& field);

// False in a build with AddressSanitizer (the server under test is built alike): its shadow
// memory, redzones and quarantine are charged to the process, so tight RSS bounds say nothing
// there. Tests check such bounds only when this is true: scripts/test.sh's default build does;
// CI's sanitized build checks everything else those tests assert.
bool MemoryBoundsAreMeasurable();

}  // namespace hubstats::test_support

#endif  // HUBSTATS_TESTS_SUPPORT_INGEST_CALLS_H_
