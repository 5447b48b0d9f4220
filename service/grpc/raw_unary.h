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

#include <memory>
#include <string>
#include <utility>

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

// A call that needs nothing before its work (see RunRawUnary's `wait`).
struct NoWait {
  template <typename Request, typename Resume>
  bool operator()(Request&, Resume&&) const {
    return false;
  }
};

// Parses the request as `Request`, runs `work(const Request&, Response*)` (returning
// absl::Status) on `workers`, and finishes the call with the serialized response or the error.
// `request` and `response` belong to the call and live until it finishes. The call must pass
// `admission` first.
//
// Between parsing and the work, `wait(Request& parsed, resume)` may hold the call without a
// worker: it returns false to run the work now, or true when it took `resume`, an
// absl::AnyInvocable<void(absl::Status)> it calls exactly once, from any thread and without
// blocking: OK runs the work on `workers` (with `parsed` as `wait` left it), an error finishes
// the call with it. `workers` must outlive every call that waits.
template <typename Request, typename Response, typename Work, typename Wait = NoWait>
grpc::ServerUnaryReactor* RunRawUnary(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request, grpc::ByteBuffer* response,
                                      WorkerPool& workers, const UnaryAdmission& admission,
                                      Work work, Wait wait = {}) {
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
  // The call's state, shared by the task that parses and the one that resumes after a wait.
  struct Call {
    grpc::ServerUnaryReactor* reactor;
    grpc::ByteBuffer* response;
    std::shared_ptr<Admission> admitted;
    Work work;
    Request parsed;
    // Runs the work unless `status` is an error, and finishes the call.
    void Finish(absl::Status status) {
      Response answer;
      if (status.ok()) status = work(parsed, &answer);
      if (status.ok()) {
        bool own_buffer = false;
        if (!grpc::GenericSerialize<grpc::ProtoBufferWriter, Response>(answer, response,
                                                                       &own_buffer)
                 .ok()) {
          status = absl::InternalError("could not serialize the response");
        }
      }
      reactor->Finish(ToGrpcStatus(status));
    }
  };
  auto call =
      std::make_shared<Call>(Call{reactor, response, std::move(admitted), std::move(work), {}});
  workers.Submit([call, request, &workers, wait = std::move(wait)]() mutable {
    absl::Status status = ParseRequest(*request, call->parsed);
    if (status.ok()) {
      auto resume = [call, &workers](absl::Status waited) {
        if (!waited.ok()) {
          call->reactor->Finish(ToGrpcStatus(waited));
          return;
        }
        workers.Submit([call] { call->Finish(absl::OkStatus()); });
      };
      if (wait(call->parsed, std::move(resume))) return;
    }
    call->Finish(status);
  });
  return reactor;
}

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_GRPC_RAW_UNARY_H_
