// gRPC handlers (callback API) for hubstats.v1.QueryService.
//
// Requests arrive as bytes (raw methods): a request that is not the expected message is
// answered INVALID_ARGUMENT saying so. Each call is parsed, converted and answered on a
// WorkerPool, never on gRPC's threads; the handlers only convert (StatsService holds the
// logic). Every call passes `admission` first (see raw_unary.h). The service borrows
// `service`, `workers` and the admission's guard, which must outlive the gRPC server.
#ifndef HUBSTATS_SERVICE_GRPC_QUERY_SERVICE_H_
#define HUBSTATS_SERVICE_GRPC_QUERY_SERVICE_H_

#include "app/stats_service.h"
#include "app/worker_pool.h"
#include "grpc/raw_unary.h"
#include "hubstats/v1/hubstats.grpc.pb.h"

namespace hubstats {

class QueryServiceImpl final
    : public v1::QueryService::WithRawCallbackMethod_GetModalityShare<
          v1::QueryService::WithRawCallbackMethod_GetSizeDistribution<
              v1::QueryService::WithRawCallbackMethod_GetTopN<
                  v1::QueryService::WithRawCallbackMethod_GetBreakdown<
                      v1::QueryService::WithRawCallbackMethod_GetTotals<
                          v1::QueryService::WithRawCallbackMethod_GetModelStats<
                              v1::QueryService::WithRawCallbackMethod_GetTrend<
                                  v1::QueryService::WithRawCallbackMethod_GetCrossTab<
                                      v1::QueryService::WithRawCallbackMethod_ExportModels<
                                          v1::QueryService::Service>>>>>>>>> {
 public:
  QueryServiceImpl(StatsService& service, WorkerPool& workers, UnaryAdmission admission = {})
      : service_(service), workers_(workers), admission_(admission) {}

  grpc::ServerUnaryReactor* GetModalityShare(grpc::CallbackServerContext* context,
                                             const grpc::ByteBuffer* request,
                                             grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetSizeDistribution(grpc::CallbackServerContext* context,
                                                const grpc::ByteBuffer* request,
                                                grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetTopN(grpc::CallbackServerContext* context,
                                    const grpc::ByteBuffer* request,
                                    grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetBreakdown(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetTotals(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetModelStats(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetTrend(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetCrossTab(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  // Server streaming: see grpc/export_reactor.h.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* ExportModels(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) override;

 private:
  StatsService& service_;
  WorkerPool& workers_;
  const UnaryAdmission admission_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_GRPC_QUERY_SERVICE_H_
