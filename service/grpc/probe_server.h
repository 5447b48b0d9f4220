// ProbeServer: a second, plaintext gRPC port that answers grpc.health.v1.Health/Check and
// nothing else, with whatever the main server's health service answers (asked in process).
//
// Kubernetes' native gRPC probes speak neither TLS nor tokens. With TLS on the main port they
// cannot reach its health service, so they probe this port instead. It serves no data and
// takes no input but a health request, so it is safe without TLS; keep it off the public
// network all the same (it tells anyone whether the replica is up).
//
// Thread-safe, but Shutdown is called by one thread. The main server must outlive the probe server
// (destroy or shut this down first).
#ifndef HUBSTATS_SERVICE_GRPC_PROBE_SERVER_H_
#define HUBSTATS_SERVICE_GRPC_PROBE_SERVER_H_

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace hubstats {

class ProbeServer {
 public:
  // Listens on `listen` (port 0 picks one). UNAVAILABLE when it cannot listen there.
  static absl::StatusOr<std::unique_ptr<ProbeServer>> Start(const std::string& listen,
                                                            grpc::Server& main);
  ~ProbeServer();

  int port() const { return port_; }
  // Ends the probe port; calls in flight finish by `deadline`.
  void Shutdown(std::chrono::system_clock::time_point deadline);

 private:
  class HealthProxy;
  ProbeServer() = default;

  std::unique_ptr<grpc::GenericStub> main_;
  std::unique_ptr<HealthProxy> proxy_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_GRPC_PROBE_SERVER_H_
