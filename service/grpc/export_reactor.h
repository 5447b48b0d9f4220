// ExportReactor: the server side of a streaming export (QueryService.ExportModels).
//
// One call: the request is parsed and the export opened (a ModelExport snapshot at one version)
// on the WorkerPool, then the snapshot goes out in chunks, each built on the pool after the
// previous one was written, so a slow reader holds the snapshot and one chunk, never a queue of
// them, and no gRPC thread ever waits. A failed write (the client went away or cancelled) ends
// the export; so does an error opening it (its status, converted once by ToGrpcStatus).
//
// Codes: those of the call's admission and of `open`; INVALID_ARGUMENT for a request that is
// not an ExportRequest or a chunk_size outside 1..kMaxExportChunk. The reactor deletes itself
// when the call is done; it borrows the pool and the admission's guard, which must outlive the
// gRPC server.
#ifndef HUBSTATS_SERVICE_GRPC_EXPORT_REACTOR_H_
#define HUBSTATS_SERVICE_GRPC_EXPORT_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "app/stats_service.h"
#include "app/worker_pool.h"
#include "grpc/raw_unary.h"
#include "hubstats/v1/hubstats.pb.h"

namespace hubstats {

inline constexpr int kDefaultExportChunk = 1000;
inline constexpr int kMaxExportChunk = 10000;

class ExportReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  // Opens the export a request asks for (runs on the pool).
  using Open = std::function<absl::StatusOr<Answer<ModelExport>>(const v1::ExportRequest&)>;

  // Starts the call; gRPC owns the reactor from here on.
  static ExportReactor* Start(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                              WorkerPool& workers, const UnaryAdmission& admission, Open open);

  void OnWriteDone(bool ok) override;
  void OnDone() override { delete this; }

 private:
  ExportReactor(WorkerPool& workers, Open open) : workers_(workers), open_(std::move(open)) {}

  // On the pool: parses the request and opens the export, then sends the first chunk.
  void OpenExport(const grpc::ByteBuffer& request);
  // On the pool: sends the next chunk, or finishes when every model was sent.
  void SendChunk();

  WorkerPool& workers_;
  Open open_;
  std::optional<Admission> admitted_;  // Held until the call is done.
  std::optional<Answer<ModelExport>> export_;
  size_t chunk_size_ = kDefaultExportChunk;
  size_t sent_ = 0;         // Models sent so far.
  bool sent_any_ = false;   // An empty export still sends one (empty) chunk.
  grpc::ByteBuffer chunk_;  // The chunk being written.
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_GRPC_EXPORT_REACTOR_H_
