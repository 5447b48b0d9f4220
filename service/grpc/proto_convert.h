// Conversions between hubstats.v1 messages and the service's types, and the one place where
// absl::Status becomes grpc::Status.
#ifndef HUBSTATS_SERVICE_GRPC_PROTO_CONVERT_H_
#define HUBSTATS_SERVICE_GRPC_PROTO_CONVERT_H_

#include <grpcpp/support/status.h>

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "app/stats_service.h"
#include "hubstats/v1/hubstats.pb.h"

namespace hubstats {

// The gRPC status for `status`: same code and message; an error naming a field also carries a
// google.rpc.BadRequest detail (hubstats.v1.Status in grpc-status-details-bin). The message,
// field and reason are each cut to kMaxStatusText bytes (saying so), so a status echoing a huge
// input still fits the trailers a client accepts.
inline constexpr size_t kMaxStatusText = 1024;
grpc::Status ToGrpcStatus(const absl::Status& status);

// Request fields -> service arguments. INVALID_ARGUMENT naming the field on bad values.
absl::StatusOr<DayRange> FromProto(const v1::DateRange* range);  // nullptr: all time
absl::StatusOr<std::optional<Modality>> ModalityFilterFromProto(v1::Modality modality);
absl::StatusOr<CatalogRecord> FromProto(const v1::ModelRecord& record);
absl::StatusOr<RankBy> FromProto(v1::RankBy by);  // UNSPECIFIED: by model
// INVALID_ARGUMENT ("freshness.min_version") for a token of another store.
absl::StatusOr<Freshness> FromProto(const v1::Freshness& freshness, uint32_t shard_count);
absl::StatusOr<AggregateKind> FromProto(v1::Dimension dimension);  // UNSPECIFIED refused
// The granularity, dimension, boundaries and n (0: kDefaultTopN); range, modality and
// freshness are the query preamble's.
absl::StatusOr<TrendQuery> FromProto(const v1::TrendRequest& request);

// A cross-tab dimension; INVALID_ARGUMENT naming `field` ("rows", "columns").
absl::StatusOr<TrendDimension> CrossDimensionFromProto(v1::Dimension dimension,
                                                       absl::string_view field);
// The dimensions and boundaries; range, modality and freshness are the query preamble's.
absl::StatusOr<CrossTabQuery> FromProto(const v1::CrossTabRequest& request);
// The filters of a TopNRequest or ExportRequest (validated by StatsService), with the
// preamble's modality.
template <typename Request>
TopFilter TopFilterFromProto(const Request& request, std::optional<Modality> modality) {
  TopFilter filter{.modality = modality};
  if (!request.author().empty()) filter.author = request.author();
  if (!request.task().empty()) filter.task = request.task();
  if (!request.library().empty()) filter.library = request.library();
  if (request.has_min_parameters()) filter.min_parameters = request.min_parameters();
  if (request.has_max_parameters()) filter.max_parameters = request.max_parameters();
  return filter;
}

// Views into `event`, which must outlive the result.
RawEvent FromProto(const v1::DownloadEvent& event);

v1::Modality ToProto(Modality modality);
v1::Date ToProto(Day day);
v1::ModelRecord ToProto(const CatalogRecord& record);
void ToProto(const IngestOutcome& outcome, v1::IngestResponse* response);
void ToProto(const UpsertOutcome& outcome, v1::UpsertModelsResponse* response);
void ToProto(const ModalityShare& share, v1::ModalityShareResponse* response);
void ToProto(const SizeDistribution& sizes, v1::SizeDistributionResponse* response);
void ToProto(const TopN& top, v1::TopNResponse* response);
void ToProto(const Breakdown& breakdown, v1::BreakdownResponse* response);
void ToProto(const Population& population, v1::TotalsResponse* response);
void ToProto(const ModelStats& stats, v1::ModelStatsResponse* response);
void ToProto(const Trend& trend, v1::TrendResponse* response);
void ToProto(const CrossTab& table, v1::CrossTabResponse* response);
void ToProto(const ExportedModel& model, v1::ExportedModel* out);
void ToProto(const AsOf& as_of, v1::AsOf* out);

// A query's answer: its value and what it reflects.
template <typename T, typename Response>
void ToProto(const Answer<T>& answer, Response* response) {
  ToProto(answer.value, response);
  ToProto(answer.as_of, response->mutable_as_of());
}

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_GRPC_PROTO_CONVERT_H_
