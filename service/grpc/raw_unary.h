// Unary calls whose request arrives as bytes (raw callback methods).
//
// gRPC's typed handlers answer a request that does not parse with UNIMPLEMENTED and no
// message; parsing here answers INVALID_ARGUMENT saying which message was expected. The
// parsing and the work run on a WorkerPool, never on gRPC's threads. Before either, the call
// passes its UnaryAdmission (token, calls in progress, request size): a refused call costs
// no worker.
#ifndef HUBSTATS_SERVICE_GRPC_RAW_UNARY_H_
#define HUBSTATS_SERVICE_GRPC_RAW_UNARY_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "app/worker_pool.h"
#include "grpc/call_guard.h"
#include "grpc/proto_convert.h"

namespace hubstats {

// Parses `bytes` as a `Message`. INVALID_ARGUMENT naming the message type when they are not
// one (malformed protobuf, a string field that is not UTF-8, nesting too deep).
template <typename Message>
absl::Status ParseRequest(const grpc::ByteBuffer& bytes, Message& message) {
  grpc::ByteBuffer copy(bytes);  // Shares the slices; parsing consumes the buffer.
  if (!grpc::GenericDeserialize<grpc::ProtoBufferReader, Message>(&copy, &message).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the request is not a valid ", Message::descriptor()->full_name(),
        " (malformed protobuf, a string field that is not UTF-8, or nesting too deep)"));
  }
  return absl::OkStatus();
}

// What a unary call must pass before it is parsed: with a guard, a token with `scope` and a
// place among the calls in progress (see CallGuard); and at most `max_request_bytes`
// (RESOURCE_EXHAUSTED naming the limit).
struct UnaryAdmission {
  CallGuard* guard = nullptr;
  TokenScope scope = TokenScope::kRead;
  size_t max_request_bytes = SIZE_MAX;
};

// Parses the request as `Request`, runs `work(const Request&, Response*)` (returning
// absl::Status) on `workers`, and finishes the call with the serialized response or the error.
// `request` and `response` belong to the call and live until it finishes. The call must pass
// `admission` first.
template <typename Request, typename Response, typename Work>
grpc::ServerUnaryReactor* RunRawUnary(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request, grpc::ByteBuffer* response,
                                      WorkerPool& workers, const UnaryAdmission& admission,
                                      Work work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Held until the call is finished; shared because the worker pool copies its tasks.
  std::shared_ptr<Admission> admitted;
  if (admission.guard != nullptr) {
    absl::StatusOr<Admission> admit = admission.guard->Admit(*context, admission.scope);
    if (!admit.ok()) {
      reactor->Finish(ToGrpcStatus(admit.status()));
      return reactor;
    }
    admitted = std::make_shared<Admission>(*std::move(admit));
  }
  if (request->Length() > admission.max_request_bytes) {
    reactor->Finish(ToGrpcStatus(absl::ResourceExhaustedError(absl::StrCat(
        "the request has ", request->Length(), " bytes; a ", Request::descriptor()->full_name(),
        " may have at most ", admission.max_request_bytes))));
    return reactor;
  }
  workers.Submit([reactor, request, response, admitted, work = std::move(work)]() mutable {
    Request parsed;
    absl::Status status = ParseRequest(*request, parsed);
    Response answer;
    if (status.ok()) status = work(parsed, &answer);
    if (status.ok()) {
      bool own_buffer = false;
      if (!grpc::GenericSerialize<grpc::ProtoBufferWriter, Response>(answer, response, &own_buffer)
               .ok()) {
        status = absl::InternalError("could not serialize the response");
      }
    }
    reactor->Finish(ToGrpcStatus(status));
  });
  return reactor;
}

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_GRPC_RAW_UNARY_H_
