#include "grpc/rpc_metrics.h"

#include <grpcpp/server_context.h>

#include <chrono>

namespace hubstats {
namespace {

using grpc::experimental::InterceptionHookPoints;

class RpcInterceptor final : public grpc::experimental::Interceptor {
 public:
  RpcInterceptor(grpc::experimental::ServerRpcInfo* info, RpcMetrics& metrics,
                 const RpcMetrics::Method& method)
      : info_(info),
        metrics_(metrics),
        method_(method),
        started_(std::chrono::steady_clock::now()) {
    method_.started->Increment();
  }

  ~RpcInterceptor() override {
    // gRPC destroys interceptors when the call is over; one that never sent a status was
    // cancelled (by the client, its deadline, or the connection going away).
    if (!handled_) metrics_.Handled(method_, grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    // A read that found the end of the stream passes here too, without a message.
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() != nullptr) {
      method_.received->Increment();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      method_.sent->Increment();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) && !handled_) {
      handled_ = true;
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started_;
      method_.latency->Observe(took.count());
      // A handler that ends a call because the client cancelled it still sends a status
      // (often OK); the client never sees it. With the callback API IsCancelled is valid here.
      metrics_.Handled(method_, info_->server_context()->IsCancelled()
                                    ? grpc::StatusCode::CANCELLED
                                    : methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* const info_;
  RpcMetrics& metrics_;
  const RpcMetrics::Method& method_;
  const std::chrono::steady_clock::time_point started_;
  bool handled_ = false;
};

}  // namespace

const char* StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

RpcMetrics::RpcMetrics(telemetry::Registry& registry)
    : started_(registry.AddCounter("hubstats_grpc_server_started_total",
                                   "gRPC calls started, by method.", {"method"})),
      handled_(registry.AddCounter("hubstats_grpc_server_handled_total",
                                   "gRPC calls ended, by method and status code.",
                                   {"method", "code"})),
      latency_(registry.AddHistogram(
          "hubstats_grpc_server_handling_seconds",
          "Time from a gRPC call's start to its status, by method (streams: their whole life).",
          telemetry::LatencyBuckets(), {"method"})),
      received_(registry.AddCounter("hubstats_grpc_server_msg_received_total",
                                    "Request messages received, by method.", {"method"})),
      sent_(registry.AddCounter("hubstats_grpc_server_msg_sent_total",
                                "Response messages sent, by method.", {"method"})) {}

const RpcMetrics::Method& RpcMetrics::MethodOf(const char* name) {
  std::lock_guard lock(mutex_);
  std::string key = name == nullptr ? "" : name;
  if (!methods_.contains(key) && methods_.size() >= kMaxMethods) key = "other";
  std::unique_ptr<Method>& method = methods_[key];
  if (method == nullptr) {
    method = std::make_unique<Method>(
        Method{key, &started_.WithLabels({key}), &latency_.WithLabels({key}),
               &received_.WithLabels({key}), &sent_.WithLabels({key})});
  }
  return *method;
}

void RpcMetrics::Handled(const Method& method, grpc::StatusCode code) {
  handled_.WithLabels({method.name, StatusCodeName(code)}).Increment();
}

grpc::experimental::Interceptor* RpcMetrics::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new RpcInterceptor(info, *this, MethodOf(info->method()));
}

}  // namespace hubstats
