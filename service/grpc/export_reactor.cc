#include "grpc/export_reactor.h"

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/proto_buffer_writer.h>

#include "absl/strings/str_cat.h"
#include "core/field_error.h"

namespace hubstats {

ExportReactor* ExportReactor::Start(grpc::CallbackServerContext* context,
                                    const grpc::ByteBuffer* request, WorkerPool& workers,
                                    const UnaryAdmission& admission, Open open) {
  auto* reactor = new ExportReactor(workers, std::move(open));
  if (admission.guard != nullptr) {
    absl::StatusOr<Admission> admit = admission.guard->Admit(*context, admission.scope);
    if (!admit.ok()) {
      reactor->Finish(ToGrpcStatus(admit.status()));
      return reactor;
    }
    reactor->admitted_.emplace(*std::move(admit));
  }
  if (request->Length() > admission.max_request_bytes) {
    reactor->Finish(ToGrpcStatus(absl::ResourceExhaustedError(absl::StrCat(
        "the request has ", request->Length(),
        " bytes; a hubstats.v1.ExportRequest may have at most ", admission.max_request_bytes))));
    return reactor;
  }
  // The copy shares the request's slices; the worker may run after this handler returned.
  workers.Submit([reactor, copy = grpc::ByteBuffer(*request)] { reactor->OpenExport(copy); });
  return reactor;
}

void ExportReactor::OpenExport(const grpc::ByteBuffer& request) {
  v1::ExportRequest parsed;
  absl::Status status = ParseRequest(request, parsed);
  if (status.ok() && parsed.chunk_size() != 0) {
    if (parsed.chunk_size() < 1 || parsed.chunk_size() > kMaxExportChunk) {
      status = InvalidFieldError(
          "chunk_size", absl::StrCat("must be between 1 and ", kMaxExportChunk,
                                     " (0: ", kDefaultExportChunk, "), got ", parsed.chunk_size()));
    } else {
      chunk_size_ = static_cast<size_t>(parsed.chunk_size());
    }
  }
  if (status.ok()) {
    absl::StatusOr<Answer<ModelExport>> opened = open_(parsed);
    if (opened.ok()) {
      export_.emplace(*std::move(opened));
    } else {
      status = opened.status();
    }
  }
  if (!status.ok()) {
    Finish(ToGrpcStatus(status));
    return;
  }
  SendChunk();
}

void ExportReactor::SendChunk() {
  const ModelExport& models = export_->value;
  if (sent_any_ && sent_ >= models.size()) {
    Finish(grpc::Status::OK);
    return;
  }
  v1::ExportChunk chunk;
  chunk.set_total_models(static_cast<int64_t>(models.size()));
  chunk.set_total_downloads(models.total_downloads());
  ToProto(export_->as_of, chunk.mutable_as_of());
  const std::vector<ExportedModel> rows = models.Rows(sent_, sent_ + chunk_size_);
  chunk.mutable_models()->Reserve(static_cast<int>(rows.size()));
  for (const ExportedModel& row : rows) ToProto(row, chunk.add_models());
  sent_ += rows.size();
  sent_any_ = true;
  // GenericSerialize wants an empty buffer; the previous chunk was written (OnWriteDone).
  chunk_.Clear();
  bool own_buffer = false;
  if (!grpc::GenericSerialize<grpc::ProtoBufferWriter, v1::ExportChunk>(chunk, &chunk_, &own_buffer)
           .ok()) {
    Finish(ToGrpcStatus(absl::InternalError("could not serialize an export chunk")));
    return;
  }
  StartWrite(&chunk_);
}

void ExportReactor::OnWriteDone(bool ok) {
  if (!ok) {
    // The stream is gone (cancelled, deadline, disconnect): nobody reads the rest.
    Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the export's stream was closed"));
    return;
  }
  workers_.Submit([this] { SendChunk(); });
}

}  // namespace hubstats
