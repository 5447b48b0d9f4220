// RpcMetrics: a gRPC server interceptor that measures every call the server handles.
//
//   hubstats_grpc_server_started_total{method}           calls started
//   hubstats_grpc_server_handled_total{method,code}      calls ended, by status code name
//   hubstats_grpc_server_handling_seconds{method}        histogram: start to status sent
//   hubstats_grpc_server_msg_received_total{method}      request messages (a stream has many)
//   hubstats_grpc_server_msg_sent_total{method}          response messages
//
// `method` is the full name, "/hubstats.v1.QueryService/GetTotals" (the health and reflection
// services too). A call that ends without a status being sent (the client cancelled, its
// deadline passed) is counted as CANCELLED. At most kMaxMethods names get series of their own;
// any further ones share method="other", so clients cannot grow the series without bound.
//
// Install with `builder.experimental().SetInterceptorCreators(...)`. The families live in the
// registry given at construction, which must outlive the server. Thread-safe.
#ifndef HUBSTATS_SERVICE_GRPC_RPC_METRICS_H_
#define HUBSTATS_SERVICE_GRPC_RPC_METRICS_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "telemetry/metrics.h"

namespace hubstats {

class RpcMetrics final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  static constexpr size_t kMaxMethods = 64;

  explicit RpcMetrics(telemetry::Registry& registry);

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

  // The series of one method, looked up once per call.
  struct Method {
    std::string name;
    telemetry::Counter* started;
    telemetry::Histogram* latency;
    telemetry::Counter* received;
    telemetry::Counter* sent;
  };
  // Counts a call of `method` that ended with `code`.
  void Handled(const Method& method, grpc::StatusCode code);

 private:
  const Method& MethodOf(const char* name);

  telemetry::Family<telemetry::Counter>& started_;
  telemetry::Family<telemetry::Counter>& handled_;
  telemetry::Family<telemetry::Histogram>& latency_;
  telemetry::Family<telemetry::Counter>& received_;
  telemetry::Family<telemetry::Counter>& sent_;
  std::mutex mutex_;
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> methods_;
};

// The name of a status code as gRPC spells it: "OK", "UNAVAILABLE", ...
const char* StatusCodeName(grpc::StatusCode code);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_GRPC_RPC_METRICS_H_
