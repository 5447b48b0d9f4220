// gRPC handlers (callback API) for hubstats.v1.IngestService and hubstats.v1.QueryService.
//
// Handlers convert messages and hand the work to other threads, so no reaction blocks: queries
// run on a WorkerPool; an ingest stream validates its batches there, one after another, and
// submits them in order to the GroupCommitter, which commits many streams' batches together.
// Each stream keeps one read and one write in flight and a bounded number of batches queued;
// it stops reading (gRPC flow control then holds the client back) when its queue is full or
// the process-wide IngestBudget is spent. Answers go out in order, once committed.
//
// The services borrow `service` and `workers`, which must outlive the gRPC server.
#ifndef HUBSTATS_SERVICE_GRPC_SERVICES_H_
#define HUBSTATS_SERVICE_GRPC_SERVICES_H_

#include <atomic>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "app/group_commit.h"
#include "app/ingest_budget.h"
#include "app/stats_service.h"
#include "app/worker_pool.h"
#include "hubstats/v1/hubstats.grpc.pb.h"

namespace hubstats {

// Batches a stream may have read but not yet answered. Several are in commit windows at once,
// so one stream can go as fast as the windows do.
inline constexpr int kMaxQueuedBatchesPerStream = 32;

class IngestServiceImpl final : public v1::IngestService::CallbackService {
 public:
  // `service`, `workers`, `budget` and `committer` must outlive the gRPC server. Every batch
  // carries an identity (the client's producer, or one the server makes per stream), so the
  // committer's retries never apply a shard twice.
  IngestServiceImpl(StatsService& service, WorkerPool& workers, IngestBudget& budget,
                    GroupCommitter& committer);

  grpc::ServerBidiReactor<v1::IngestRequest, v1::IngestResponse>* StreamEvents(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* UpsertModels(grpc::CallbackServerContext* context,
                                         const v1::UpsertModelsRequest* request,
                                         v1::UpsertModelsResponse* response) override;

  // For shutdown: streams stop reading, answer the batches they already read, then end with
  // UNAVAILABLE ("retry elsewhere"); new streams end at once the same way. Thread-safe.
  void Drain();
  bool draining() const { return draining_.load(); }

  // Used by the streams (internal).
  class Stream;
  void Register(Stream* stream);
  void Unregister(Stream* stream);

 private:
  StatsService& service_;
  WorkerPool& workers_;
  IngestBudget& budget_;
  GroupCommitter& committer_;
  const std::string instance_id_;  // Random; makes per-stream identities unique.
  std::atomic<uint64_t> next_stream_{1};
  std::atomic<bool> draining_{false};
  std::mutex streams_mutex_;
  absl::flat_hash_set<Stream*> streams_;
};

class QueryServiceImpl final : public v1::QueryService::CallbackService {
 public:
  QueryServiceImpl(StatsService& service, WorkerPool& workers)
      : service_(service), workers_(workers) {}

  grpc::ServerUnaryReactor* GetModalityShare(grpc::CallbackServerContext* context,
                                             const v1::ModalityShareRequest* request,
                                             v1::ModalityShareResponse* response) override;
  grpc::ServerUnaryReactor* GetSizeDistribution(grpc::CallbackServerContext* context,
                                                const v1::SizeDistributionRequest* request,
                                                v1::SizeDistributionResponse* response) override;
  grpc::ServerUnaryReactor* GetTopN(grpc::CallbackServerContext* context,
                                    const v1::TopNRequest* request,
                                    v1::TopNResponse* response) override;
  grpc::ServerUnaryReactor* GetBreakdown(grpc::CallbackServerContext* context,
                                         const v1::BreakdownRequest* request,
                                         v1::BreakdownResponse* response) override;
  grpc::ServerUnaryReactor* GetTotals(grpc::CallbackServerContext* context,
                                      const v1::TotalsRequest* request,
                                      v1::TotalsResponse* response) override;
  grpc::ServerUnaryReactor* GetModelStats(grpc::CallbackServerContext* context,
                                          const v1::ModelStatsRequest* request,
                                          v1::ModelStatsResponse* response) override;

 private:
  StatsService& service_;
  WorkerPool& workers_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_GRPC_SERVICES_H_
