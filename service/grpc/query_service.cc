#include "grpc/query_service.h"

#include "grpc/proto_convert.h"
#include "grpc/raw_unary.h"

namespace hubstats {
namespace {

// Every query request has an optional `range` and `freshness`.
template <typename Request>
absl::StatusOr<DayRange> RangeOf(const Request& request) {
  return FromProto(request.has_range() ? &request.range() : nullptr);
}
template <typename Request>
absl::StatusOr<Freshness> FreshnessOf(const Request& request, const StatsService& service) {
  return FromProto(request.freshness(), service.shard_count());
}

}  // namespace

grpc::ServerUnaryReactor* QueryServiceImpl::GetModalityShare(grpc::CallbackServerContext* context,
                                                             const grpc::ByteBuffer* request,
                                                             grpc::ByteBuffer* response) {
  return RunRawUnary<v1::ModalityShareRequest, v1::ModalityShareResponse>(
      context, request, response, workers_, admission_,
      [this](const v1::ModalityShareRequest& request,
             v1::ModalityShareResponse* response) -> absl::Status {
        absl::StatusOr<DayRange> range = RangeOf(request);
        if (!range.ok()) return range.status();
        absl::StatusOr<Freshness> freshness = FreshnessOf(request, service_);
        if (!freshness.ok()) return freshness.status();
        absl::StatusOr<Answer<ModalityShare>> share = service_.GetModalityShare(*range, *freshness);
        if (!share.ok()) return share.status();
        ToProto(*share, response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* QueryServiceImpl::GetSizeDistribution(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return RunRawUnary<v1::SizeDistributionRequest, v1::SizeDistributionResponse>(
      context, request, response, workers_, admission_,
      [this](const v1::SizeDistributionRequest& request,
             v1::SizeDistributionResponse* response) -> absl::Status {
        absl::StatusOr<DayRange> range = RangeOf(request);
        if (!range.ok()) return range.status();
        absl::StatusOr<Freshness> freshness = FreshnessOf(request, service_);
        if (!freshness.ok()) return freshness.status();
        absl::StatusOr<std::optional<Modality>> modality =
            ModalityFilterFromProto(request.modality());
        if (!modality.ok()) return modality.status();
        const std::vector<int64_t> boundaries(request.boundaries().begin(),
                                              request.boundaries().end());
        absl::StatusOr<Answer<SizeDistribution>> sizes =
            service_.GetSizeDistribution(*range, boundaries, *modality, *freshness);
        if (!sizes.ok()) return sizes.status();
        ToProto(*sizes, response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* QueryServiceImpl::GetTopN(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* request,
                                                    grpc::ByteBuffer* response) {
  return RunRawUnary<v1::TopNRequest, v1::TopNResponse>(
      context, request, response, workers_, admission_,
      [this](const v1::TopNRequest& request, v1::TopNResponse* response) -> absl::Status {
        absl::StatusOr<DayRange> range = RangeOf(request);
        if (!range.ok()) return range.status();
        absl::StatusOr<Freshness> freshness = FreshnessOf(request, service_);
        if (!freshness.ok()) return freshness.status();
        absl::StatusOr<std::optional<Modality>> modality =
            ModalityFilterFromProto(request.modality());
        if (!modality.ok()) return modality.status();
        absl::StatusOr<RankBy> by = FromProto(request.by());
        if (!by.ok()) return by.status();
        const int n = request.n() == 0 ? kDefaultTopN : request.n();
        absl::StatusOr<Answer<TopN>> top = service_.GetTopN(*range, *by, *modality, n, *freshness);
        if (!top.ok()) return top.status();
        ToProto(*top, response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* QueryServiceImpl::GetBreakdown(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  return RunRawUnary<v1::BreakdownRequest, v1::BreakdownResponse>(
      context, request, response, workers_, admission_,
      [this](const v1::BreakdownRequest& request, v1::BreakdownResponse* response) -> absl::Status {
        absl::StatusOr<DayRange> range = RangeOf(request);
        if (!range.ok()) return range.status();
        absl::StatusOr<Freshness> freshness = FreshnessOf(request, service_);
        if (!freshness.ok()) return freshness.status();
        absl::StatusOr<std::optional<Modality>> modality =
            ModalityFilterFromProto(request.modality());
        if (!modality.ok()) return modality.status();
        absl::StatusOr<AggregateKind> dimension = FromProto(request.dimension());
        if (!dimension.ok()) return dimension.status();
        absl::StatusOr<Answer<Breakdown>> breakdown =
            service_.GetBreakdown(*range, *dimension, *modality, *freshness);
        if (!breakdown.ok()) return breakdown.status();
        ToProto(*breakdown, response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* QueryServiceImpl::GetTotals(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return RunRawUnary<v1::TotalsRequest, v1::TotalsResponse>(
      context, request, response, workers_, admission_,
      [this](const v1::TotalsRequest& request, v1::TotalsResponse* response) -> absl::Status {
        absl::StatusOr<DayRange> range = RangeOf(request);
        if (!range.ok()) return range.status();
        absl::StatusOr<Freshness> freshness = FreshnessOf(request, service_);
        if (!freshness.ok()) return freshness.status();
        absl::StatusOr<Answer<Population>> totals = service_.GetTotals(*range, *freshness);
        if (!totals.ok()) return totals.status();
        ToProto(*totals, response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* QueryServiceImpl::GetModelStats(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* request,
                                                          grpc::ByteBuffer* response) {
  return RunRawUnary<v1::ModelStatsRequest, v1::ModelStatsResponse>(
      context, request, response, workers_, admission_,
      [this](const v1::ModelStatsRequest& request,
             v1::ModelStatsResponse* response) -> absl::Status {
        absl::StatusOr<DayRange> range = RangeOf(request);
        if (!range.ok()) return range.status();
        absl::StatusOr<Freshness> freshness = FreshnessOf(request, service_);
        if (!freshness.ok()) return freshness.status();
        absl::StatusOr<Answer<ModelStats>> stats =
            service_.GetModelStats(request.model_id(), *range, *freshness);
        if (!stats.ok()) return stats.status();
        ToProto(*stats, response);
        return absl::OkStatus();
      });
}

}  // namespace hubstats
