// gRPC handlers (callback API) for hubstats.v1.IngestService and hubstats.v1.QueryService.
//
// Handlers convert messages and hand the blocking work to a WorkerPool, so no reaction
// blocks. Each ingest stream keeps one read and one write in flight and a bounded number of
// batches queued (flow control: it stops reading when the queue is full); its batches are
// applied one after another and answered in order.
//
// The services borrow `service` and `workers`, which must outlive the gRPC server.
#ifndef HUBSTATS_SERVICE_API_GRPC_SERVICES_H_
#define HUBSTATS_SERVICE_API_GRPC_SERVICES_H_

#include "api/stats_service.h"
#include "api/worker_pool.h"
#include "hubstats/v1/hubstats.grpc.pb.h"

namespace hubstats {

// Batches a stream may have read but not yet answered.
inline constexpr int kMaxQueuedBatchesPerStream = 4;

class IngestServiceImpl final : public v1::IngestService::CallbackService {
 public:
  IngestServiceImpl(StatsService& service, WorkerPool& workers)
      : service_(service), workers_(workers) {}

  grpc::ServerBidiReactor<v1::IngestRequest, v1::IngestResponse>* StreamEvents(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* UpsertModels(grpc::CallbackServerContext* context,
                                         const v1::UpsertModelsRequest* request,
                                         v1::UpsertModelsResponse* response) override;

 private:
  StatsService& service_;
  WorkerPool& workers_;
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

#endif  // HUBSTATS_SERVICE_API_GRPC_SERVICES_H_
