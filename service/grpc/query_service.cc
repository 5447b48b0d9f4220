#include "grpc/query_service.h"

#include <optional>
#include <utility>
#include <vector>

#include "grpc/export_reactor.h"
#include "grpc/proto_convert.h"
#include "grpc/raw_unary.h"

namespace hubstats {
namespace {

// What query requests share, converted once: every one has an optional `range` and
// `freshness`; size, top-N and breakdown also an optional `modality` filter.
struct Preamble {
  DayRange range;
  Freshness freshness;
  std::optional<Modality> modality;
};

template <typename Request>
absl::StatusOr<Preamble> PreambleOf(const Request& request, const StatsService& service) {
  Preamble preamble;
  absl::StatusOr<DayRange> range = FromProto(request.has_range() ? &request.range() : nullptr);
  if (!range.ok()) return range.status();
  preamble.range = *range;
  absl::StatusOr<Freshness> freshness = FromProto(request.freshness(), service.shard_count());
  if (!freshness.ok()) return freshness.status();
  preamble.freshness = *std::move(freshness);
  if constexpr (requires { request.modality(); }) {
    absl::StatusOr<std::optional<Modality>> modality = ModalityFilterFromProto(request.modality());
    if (!modality.ok()) return modality.status();
    preamble.modality = *modality;
  }
  return preamble;
}

// The application layer's answer into the response, or its error.
template <typename Result, typename Response>
absl::Status Respond(const absl::StatusOr<Result>& answer, Response* response) {
  if (!answer.ok()) return answer.status();
  ToProto(*answer, response);
  return absl::OkStatus();
}

// RunRawUnary's `wait` for queries: a query that asks for versions this replica has not
// applied yet waits without a worker (StatsService::AwaitAsync), then runs with its freshness
// cleared, as it is met. A freshness that does not convert is left for the work to report.
auto FreshnessWait(StatsService& service) {
  return [&service](auto& request, auto resume) -> bool {
    if (!request.has_freshness()) return false;
    absl::StatusOr<Freshness> freshness = FromProto(request.freshness(), service.shard_count());
    if (!freshness.ok() || (!freshness->fresh && freshness->min_version.shards.empty())) {
      return false;
    }
    request.clear_freshness();
    return service.AwaitAsync(*freshness, std::move(resume));
  };
}

}  // namespace

grpc::ServerUnaryReactor* QueryServiceImpl::GetModalityShare(grpc::CallbackServerContext* context,
                                                             const grpc::ByteBuffer* request,
                                                             grpc::ByteBuffer* response) {
  return RunRawUnary<v1::ModalityShareRequest, v1::ModalityShareResponse>(
      context, request, response, workers_, admission_,
      [this](const v1::ModalityShareRequest& request,
             v1::ModalityShareResponse* response) -> absl::Status {
        absl::StatusOr<Preamble> query = PreambleOf(request, service_);
        if (!query.ok()) return query.status();
        return Respond(service_.GetModalityShare(query->range, query->freshness), response);
      },
      FreshnessWait(service_));
}

grpc::ServerUnaryReactor* QueryServiceImpl::GetSizeDistribution(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return RunRawUnary<v1::SizeDistributionRequest, v1::SizeDistributionResponse>(
      context, request, response, workers_, admission_,
      [this](const v1::SizeDistributionRequest& request,
             v1::SizeDistributionResponse* response) -> absl::Status {
        absl::StatusOr<Preamble> query = PreambleOf(request, service_);
        if (!query.ok()) return query.status();
        const std::vector<int64_t> boundaries(request.boundaries().begin(),
                                              request.boundaries().end());
        return Respond(service_.GetSizeDistribution(query->range, boundaries, query->modality,
                                                    query->freshness),
                       response);
      },
      FreshnessWait(service_));
}

grpc::ServerUnaryReactor* QueryServiceImpl::GetTopN(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* request,
                                                    grpc::ByteBuffer* response) {
  return RunRawUnary<v1::TopNRequest, v1::TopNResponse>(
      context, request, response, workers_, admission_,
      [this](const v1::TopNRequest& request, v1::TopNResponse* response) -> absl::Status {
        absl::StatusOr<Preamble> query = PreambleOf(request, service_);
        if (!query.ok()) return query.status();
        absl::StatusOr<RankBy> by = FromProto(request.by());
        if (!by.ok()) return by.status();
        const int n = request.n() == 0 ? kDefaultTopN : request.n();
        return Respond(
            service_.GetTopN(query->range, *by, TopFilterFromProto(request, query->modality), n,
                             query->freshness),
            response);
      },
      FreshnessWait(service_));
}

grpc::ServerUnaryReactor* QueryServiceImpl::GetBreakdown(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  return RunRawUnary<v1::BreakdownRequest, v1::BreakdownResponse>(
      context, request, response, workers_, admission_,
      [this](const v1::BreakdownRequest& request, v1::BreakdownResponse* response) -> absl::Status {
        absl::StatusOr<Preamble> query = PreambleOf(request, service_);
        if (!query.ok()) return query.status();
        absl::StatusOr<AggregateKind> dimension = FromProto(request.dimension());
        if (!dimension.ok()) return dimension.status();
        return Respond(
            service_.GetBreakdown(query->range, *dimension, query->modality, query->freshness),
            response);
      },
      FreshnessWait(service_));
}

grpc::ServerUnaryReactor* QueryServiceImpl::GetTotals(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return RunRawUnary<v1::TotalsRequest, v1::TotalsResponse>(
      context, request, response, workers_, admission_,
      [this](const v1::TotalsRequest& request, v1::TotalsResponse* response) -> absl::Status {
        absl::StatusOr<Preamble> query = PreambleOf(request, service_);
        if (!query.ok()) return query.status();
        return Respond(service_.GetTotals(query->range, query->freshness), response);
      },
      FreshnessWait(service_));
}

grpc::ServerUnaryReactor* QueryServiceImpl::GetModelStats(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* request,
                                                          grpc::ByteBuffer* response) {
  return RunRawUnary<v1::ModelStatsRequest, v1::ModelStatsResponse>(
      context, request, response, workers_, admission_,
      [this](const v1::ModelStatsRequest& request,
             v1::ModelStatsResponse* response) -> absl::Status {
        absl::StatusOr<Preamble> query = PreambleOf(request, service_);
        if (!query.ok()) return query.status();
        return Respond(service_.GetModelStats(request.model_id(), query->range, query->freshness),
                       response);
      },
      FreshnessWait(service_));
}

grpc::ServerUnaryReactor* QueryServiceImpl::GetTrend(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  return RunRawUnary<v1::TrendRequest, v1::TrendResponse>(
      context, request, response, workers_, admission_,
      [this](const v1::TrendRequest& request, v1::TrendResponse* response) -> absl::Status {
        absl::StatusOr<Preamble> preamble = PreambleOf(request, service_);
        if (!preamble.ok()) return preamble.status();
        absl::StatusOr<TrendQuery> query = FromProto(request);
        if (!query.ok()) return query.status();
        query->range = preamble->range;
        query->modality = preamble->modality;
        return Respond(service_.GetTrend(*query, preamble->freshness), response);
      },
      FreshnessWait(service_));
}

grpc::ServerUnaryReactor* QueryServiceImpl::GetCrossTab(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* request,
                                                        grpc::ByteBuffer* response) {
  return RunRawUnary<v1::CrossTabRequest, v1::CrossTabResponse>(
      context, request, response, workers_, admission_,
      [this](const v1::CrossTabRequest& request, v1::CrossTabResponse* response) -> absl::Status {
        absl::StatusOr<Preamble> preamble = PreambleOf(request, service_);
        if (!preamble.ok()) return preamble.status();
        absl::StatusOr<CrossTabQuery> query = FromProto(request);
        if (!query.ok()) return query.status();
        query->range = preamble->range;
        query->modality = preamble->modality;
        return Respond(service_.GetCrossTab(*query, preamble->freshness), response);
      },
      FreshnessWait(service_));
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* QueryServiceImpl::ExportModels(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  return ExportReactor::Start(
      context, request, workers_, admission_,
      [this](const v1::ExportRequest& request) -> absl::StatusOr<Answer<ModelExport>> {
        absl::StatusOr<Preamble> query = PreambleOf(request, service_);
        if (!query.ok()) return query.status();
        return service_.ExportModels(query->range, TopFilterFromProto(request, query->modality),
                                     query->freshness);
      });
}

}  // namespace hubstats
