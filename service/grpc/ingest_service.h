// gRPC handlers (callback API) for hubstats.v1.IngestService.
//
// Requests arrive as bytes (raw methods), so a message that is not an IngestRequest is refused
// with INVALID_ARGUMENT saying why (gRPC's own parsing would end a stream with OK, or a unary
// call with an empty UNIMPLEMENTED), and an ingest batch is decoded without protobuf objects
// (see ingest_decoder.h).
//
// An ingest stream decodes and validates its batches on a WorkerPool, one after another, and
// submits them in order to a BatchCommitter (the GroupCommitter, which commits many streams'
// batches together). Each stream keeps one read and one write in flight and at most
// kMaxQueuedBatchesPerStream batches read but unanswered; memory is bounded by the
// IngestBudget (a read starts only when a whole batch's reservation fits). Answers go out in
// order, once committed. Whatever ends a stream (a refused batch, a store failure, shutdown),
// every batch committed before it is answered first, and batches after a failed one are
// withdrawn from the committer, so a stream never commits a batch it does not answer.
//
// With a CallGuard, every call needs a token with the ingest scope; a stream's batches may
// only name producers its token is bound to (PERMISSION_DENIED, field producer_id); a token
// with a rate stops its streams reading while it is in debt (no error: acknowledgements slow
// down); each client's holds stay within its quota of the budget; and a stream with nothing in
// flight that receives no batch for the idle timeout ends with UNAVAILABLE.
//
// The service borrows everything it is given; all of it must outlive the gRPC server.
#ifndef HUBSTATS_SERVICE_GRPC_INGEST_SERVICE_H_
#define HUBSTATS_SERVICE_GRPC_INGEST_SERVICE_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "app/group_commit.h"
#include "app/ingest_budget.h"
#include "app/stats_service.h"
#include "app/worker_pool.h"
#include "grpc/call_guard.h"
#include "hubstats/v1/hubstats.grpc.pb.h"

namespace hubstats {

// Batches a stream may have read but not yet answered. Several are in commit windows at once,
// so one stream can go as fast as the windows do.
inline constexpr int kMaxQueuedBatchesPerStream = 32;

struct IngestLimits {
  // The largest request message (the server's gRPC receive limit must not be larger).
  size_t max_message_bytes = 16 << 20;
  // Events per batch.
  size_t max_batch_events = kMaxBatchItems;
  // Catalog records per UpsertModels request (more: INVALID_ARGUMENT, field "models").
  size_t max_upsert_records = kMaxBatchItems;

  // What a stream reserves in the IngestBudget before each read: a whole batch decoded.
  size_t ReadReservation() const;
};

// Test seams: called on the stream's worker thread. Production leaves them empty.
struct IngestHooks {
  // After the `batch`-th batch of a stream (from 1) was decoded and validated, before it is
  // submitted; `status` is why it was refused, or OK.
  std::function<void(uint64_t batch, const absl::Status& status)> after_prepare;
  // After a batch's commit failed, while its stream has released its lock to withdraw its later
  // batches from the committer: other reactions of the stream may run meanwhile.
  std::function<void()> after_failed_commit;
};

class IngestServiceImpl final
    : public v1::IngestService::WithRawCallbackMethod_StreamEvents<
          v1::IngestService::WithRawCallbackMethod_UpsertModels<v1::IngestService::Service>> {
 public:
  // Every batch carries an identity (the client's producer, or one the server makes per
  // stream), so the committer's retries never apply a shard twice.
  IngestServiceImpl(StatsService& service, WorkerPool& workers, IngestBudget& budget,
                    BatchCommitter& committer, IngestLimits limits, IngestHooks hooks = {},
                    CallGuard* guard = nullptr);
  // Stops the thread that resumes throttled streams and ends idle ones.
  ~IngestServiceImpl() override;

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* StreamEvents(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* UpsertModels(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;

  // For shutdown: streams stop reading, answer the batches they already read, then end with
  // UNAVAILABLE ("retry elsewhere"); new streams end at once the same way. Thread-safe.
  void Drain();
  bool draining() const { return draining_.load(); }

  // Streams not yet done (OnDone). Thread-safe.
  size_t open_streams();

  // Used by the streams (internal).
  class Stream;
  void Register(Stream* stream);
  void Unregister(Stream* stream);

 private:
  // Resumes the streams whose token's debt is repaid and ends idle ones.
  void Tick();

  StatsService& service_;
  WorkerPool& workers_;
  IngestBudget& budget_;
  BatchCommitter& committer_;
  const IngestLimits limits_;
  const IngestHooks hooks_;
  CallGuard* const guard_;
  const std::string instance_id_;  // Random; makes per-stream identities unique.
  std::atomic<uint64_t> next_stream_{1};
  std::atomic<bool> draining_{false};
  std::mutex streams_mutex_;
  absl::flat_hash_set<Stream*> streams_;
  // With a guard, a thread runs Tick every 50 ms.
  std::mutex ticker_mutex_;
  std::condition_variable ticker_wakeup_;
  bool ticker_stopping_ = false;
  std::thread ticker_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_GRPC_INGEST_SERVICE_H_
