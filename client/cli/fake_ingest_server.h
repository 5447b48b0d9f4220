// Test helper: an in-process IngestService on a free loopback port that records what it is
// sent and answers like the real server in the simplest way (every event or record accepted,
// except model ids starting with "bad", which are rejected with their index).
#ifndef HUBSTATS_CLIENT_CLI_FAKE_INGEST_SERVER_H_
#define HUBSTATS_CLIENT_CLI_FAKE_INGEST_SERVER_H_

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "hubstats/v1/hubstats.grpc.pb.h"

namespace hubstats::cli {

// `request` with its packed events (IngestRequest.packed) as `events` entries after the listed
// ones, in the order the server numbers them.
inline v1::IngestRequest Unpacked(const v1::IngestRequest& request) {
  v1::IngestRequest unpacked = request;
  unpacked.clear_packed();
  const v1::PackedEvents& packed = request.packed();
  for (int i = 0; i < packed.model_index_size(); ++i) {
    v1::DownloadEvent* event = unpacked.add_events();
    event->set_model_id(packed.model_ids(static_cast<int>(packed.model_index(i))));
    if (packed.timestamp_seconds_size() > 0) {
      event->mutable_timestamp()->set_seconds(packed.timestamp_seconds(i));
      if (packed.timestamp_nanos_size() > 0) {
        event->mutable_timestamp()->set_nanos(packed.timestamp_nanos(i));
      }
    }
    if (packed.counts_size() > 0) event->set_count(packed.counts(i));
    if (packed.revision_index_size() > 0) {
      event->set_revision(packed.revisions(static_cast<int>(packed.revision_index(i))));
    }
  }
  return unpacked;
}

class FakeIngestServer final : public v1::IngestService::Service {
 public:
  FakeIngestServer() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.SetMaxReceiveMessageSize(64 << 20);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~FakeIngestServer() override { server_->Shutdown(); }

  std::string target() const { return absl::StrCat("127.0.0.1:", port_); }

  // Calls to UpsertModels answered UNAVAILABLE before the first one is served.
  std::atomic<int> unavailable_upserts{0};
  // Requests that came with packed events.
  std::atomic<int> packed_requests{0};

  std::vector<v1::IngestRequest> ingest_requests() {
    std::lock_guard lock(mutex_);
    return ingest_requests_;
  }
  std::vector<v1::UpsertModelsRequest> upsert_requests() {
    std::lock_guard lock(mutex_);
    return upsert_requests_;
  }

  grpc::Status StreamEvents(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::IngestResponse, v1::IngestRequest>* stream) override {
    v1::IngestRequest received;
    while (stream->Read(&received)) {
      // Recorded and answered as the events the server sees, packed or not.
      const v1::IngestRequest request = Unpacked(received);
      if (received.has_packed()) ++packed_requests;
      {
        std::lock_guard lock(mutex_);
        ingest_requests_.push_back(request);
      }
      v1::IngestResponse response;
      response.set_sequence(request.sequence());
      for (int i = 0; i < request.events_size(); ++i) {
        const v1::DownloadEvent& event = request.events(i);
        if (absl::StartsWith(event.model_id(), "bad")) {
          Reject(i, response.add_rejections());
          response.set_rejected(response.rejected() + 1);
          continue;
        }
        response.set_accepted(response.accepted() + 1);
        response.set_accepted_downloads(response.accepted_downloads() +
                                        (event.has_count() ? event.count() : 1));
      }
      stream->Write(response);
    }
    return grpc::Status::OK;
  }

  grpc::Status UpsertModels(grpc::ServerContext*, const v1::UpsertModelsRequest* request,
                            v1::UpsertModelsResponse* response) override {
    if (unavailable_upserts.fetch_sub(1) > 0) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "store unavailable");
    }
    {
      std::lock_guard lock(mutex_);
      upsert_requests_.push_back(*request);
    }
    for (int i = 0; i < request->models_size(); ++i) {
      if (absl::StartsWith(request->models(i).model_id(), "bad")) {
        Reject(i, response->add_rejections());
        response->set_rejected(response->rejected() + 1);
      } else {
        response->set_accepted(response->accepted() + 1);
      }
    }
    return grpc::Status::OK;
  }

 private:
  static void Reject(int index, v1::Rejection* rejection) {
    rejection->set_index(index);
    rejection->set_field("model_id");
    rejection->set_reason("refused by the fake server");
  }

  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::mutex mutex_;
  std::vector<v1::IngestRequest> ingest_requests_;
  std::vector<v1::UpsertModelsRequest> upsert_requests_;
};

// A loopback address nothing listens on (a port that was free a moment ago).
inline std::string UnusedTarget() {
  const int socket_fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  bind(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(socket_fd);
  return absl::StrCat("127.0.0.1:", ntohs(address.sin_port));
}

}  // namespace hubstats::cli

#endif  // HUBSTATS_CLIENT_CLI_FAKE_INGEST_SERVER_H_
