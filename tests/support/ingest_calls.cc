#include "ingest_calls.h"

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"

namespace hubstats::test_support {

v1::IngestRequest Events(int count, const std::string& model, const std::string& revision) {
  v1::IngestRequest request;
  for (int i = 0; i < count; ++i) {
    v1::DownloadEvent* event = request.add_events();
    event->set_model_id(model);
    if (!revision.empty()) event->set_revision(revision);
  }
  return request;
}

int64_t StreamResult::AcknowledgedDownloads() const {
  int64_t total = 0;
  for (const v1::IngestResponse& answer : answers) {
    if (!answer.duplicate()) total += answer.accepted_downloads();
  }
  return total;
}

StreamResult Stream(const std::shared_ptr<grpc::Channel>& channel,
                    const std::vector<v1::IngestRequest>& batches, int deadline_s) {
  auto stub = v1::IngestService::NewStub(channel);
  return Stream(*stub, batches, deadline_s);
}

StreamResult Stream(v1::IngestService::Stub& stub, const std::vector<v1::IngestRequest>& batches,
                    int deadline_s) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(deadline_s));
  auto stream = stub.StreamEvents(&context);
  std::thread writer([&] {
    for (const v1::IngestRequest& batch : batches) {
      if (!stream->Write(batch)) break;
    }
    stream->WritesDone();
  });
  StreamResult result;
  v1::IngestResponse response;
  while (stream->Read(&response)) result.answers.push_back(response);
  writer.join();
  result.status = stream->Finish();
  return result;
}

int64_t TotalDownloads(v1::QueryService::Stub& query) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  // Fresh: the replica's read model follows the store, so wait for everything acknowledged.
  v1::TotalsRequest request;
  request.mutable_freshness()->set_fresh(true);
  v1::TotalsResponse totals;
  const grpc::Status status = query.GetTotals(&context, request, &totals);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return status.ok() ? totals.total_downloads() : -1;
}

bool MemoryBoundsAreMeasurable() {
#if defined(__SANITIZE_ADDRESS__)
  return false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return false;
#else
  return true;
#endif
#else
  return true;
#endif
}

int64_t MemoryOf(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      std::istringstream values(line.substr(field.size() + 1));
      int64_t kilobytes = 0;
      values >> kilobytes;
      return kilobytes * 1024;
    }
  }
  return -1;
}

}  // namespace hubstats::test_support
