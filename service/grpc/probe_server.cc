#include "grpc/probe_server.h"

#include <grpcpp/ext/health_check_service_server_builder_option.h>

#include "absl/strings/str_cat.h"
#include "grpc/edge_security.h"

namespace hubstats {
namespace {

constexpr char kHealthCheck[] = "/grpc.health.v1.Health/Check";

// One probe: reads the HealthCheckRequest, asks the main server the same, answers its answer.
class ProxiedCheck final : public grpc::ServerGenericBidiReactor {
 public:
  ProxiedCheck(grpc::GenericCallbackServerContext* context, grpc::GenericStub& main) : main_(main) {
    if (context->method() != kHealthCheck) {
      Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          "this port only answers grpc.health.v1.Health/Check"));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no health check request"));
      return;
    }
    forwarded_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    main_.UnaryCall(&forwarded_, kHealthCheck, grpc::StubOptions(), &request_, &response_,
                    [this](grpc::Status status) {
                      if (status.ok()) {
                        StartWriteAndFinish(&response_, grpc::WriteOptions(), status);
                      } else {
                        Finish(status);
                      }
                    });
  }

  void OnDone() override { delete this; }

 private:
  grpc::GenericStub& main_;
  grpc::ClientContext forwarded_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

}  // namespace

class ProbeServer::HealthProxy final : public grpc::CallbackGenericService {
 public:
  explicit HealthProxy(grpc::GenericStub& main) : main_(main) {}
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    return new ProxiedCheck(context, main_);
  }

 private:
  grpc::GenericStub& main_;
};

absl::StatusOr<std::unique_ptr<ProbeServer>> ProbeServer::Start(const std::string& listen,
                                                                grpc::Server& main) {
  std::unique_ptr<ProbeServer> probe(new ProbeServer());
  probe->main_ = std::make_unique<grpc::GenericStub>(main.InProcessChannel({}));
  probe->proxy_ = std::make_unique<HealthProxy>(*probe->main_);
  grpc::ServerBuilder builder;
  // Neither gRPC's own health service (it would answer for this server, always SERVING) nor
  // reflection: every call reaches the proxy.
  builder.SetOption(std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(nullptr));
  builder.SetOption(WithoutReflection());
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &probe->port_);
  builder.RegisterCallbackGenericService(probe->proxy_.get());
  // A probe is a few bytes.
  builder.SetMaxReceiveMessageSize(4 << 10);
  probe->server_ = builder.BuildAndStart();
  if (probe->server_ == nullptr || probe->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen, " for probes"));
  }
  return probe;
}

ProbeServer::~ProbeServer() { Shutdown(std::chrono::system_clock::now()); }

void ProbeServer::Shutdown(std::chrono::system_clock::time_point deadline) {
  if (server_ == nullptr || shut_down_) return;
  shut_down_ = true;
  server_->Shutdown(deadline);
  server_->Wait();
}

}  // namespace hubstats
