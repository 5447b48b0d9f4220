#include "grpc/proto_convert.h"

#include "absl/strings/str_cat.h"
#include "core/field_error.h"
#include "hubstats/v1/error_details.pb.h"

namespace hubstats {
namespace {

// Modality and v1::Modality list the same values; v1 adds UNSPECIFIED = 0 in front.
static_assert(v1::MODALITY_NLP == 1 && v1::MODALITY_UNKNOWN == kModalityCount);
// Architecture and v1::Architecture share their numbering, UNSPECIFIED included.
static_assert(v1::ARCHITECTURE_ENCODER == static_cast<int>(Architecture::kEncoder) &&
              v1::ARCHITECTURE_OTHER == static_cast<int>(Architecture::kOther));

// At most kMaxStatusText bytes of `text`, saying how much was cut. Messages echo what the
// client sent (a model id, a version token); unbounded, a 60 KB echo outgrows the client's
// metadata limit and the client sees RESOURCE_EXHAUSTED instead of the error.
std::string Bounded(absl::string_view text) {
  if (text.size() <= kMaxStatusText) return std::string(text);
  return absl::StrCat(text.substr(0, kMaxStatusText), "... (", text.size() - kMaxStatusText,
                      " more bytes)");
}

absl::StatusOr<Day> DayFromProto(const v1::Date& date, absl::string_view field) {
  return Day::FromCivil(date.year(), date.month(), date.day(), field);
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message = Bounded(status.message());
  const std::string field = Bounded(FieldOf(status));
  if (field.empty()) return grpc::Status(code, message);
  v1::BadRequest bad_request;
  v1::BadRequest::FieldViolation* violation = bad_request.add_field_violations();
  violation->set_field(field);
  violation->set_description(Bounded(ReasonOf(status)));
  v1::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(message);
  google::protobuf::Any* any = details.add_details();
  any->set_type_url("type.googleapis.com/google.rpc.BadRequest");
  any->set_value(bad_request.SerializeAsString());
  return grpc::Status(code, message, details.SerializeAsString());
}

absl::StatusOr<DayRange> FromProto(const v1::DateRange* range) {
  DayRange result;
  if (range == nullptr) return result;
  if (range->has_start()) {
    absl::StatusOr<Day> start = DayFromProto(range->start(), "range.start");
    if (!start.ok()) return start.status();
    result.first = *start;
  }
  if (range->has_end()) {
    absl::StatusOr<Day> end = DayFromProto(range->end(), "range.end");
    if (!end.ok()) return end.status();
    result.last = *end;
  }
  if (absl::Status valid = ValidateDayRange(result); !valid.ok()) return valid;
  return result;
}

absl::StatusOr<std::optional<Modality>> ModalityFilterFromProto(v1::Modality modality) {
  if (modality == v1::MODALITY_UNSPECIFIED) return std::optional<Modality>();
  if (!v1::Modality_IsValid(modality)) {
    return InvalidFieldError("modality",
                             absl::StrCat(static_cast<int>(modality), " is not a Modality value"));
  }
  return std::optional<Modality>(static_cast<Modality>(static_cast<int>(modality) - 1));
}

absl::StatusOr<CatalogRecord> FromProto(const v1::ModelRecord& record) {
  CatalogRecord result;
  result.model_id = record.model_id();
  result.pipeline_tag = record.pipeline_tag();
  absl::StatusOr<std::optional<Modality>> modality = ModalityFilterFromProto(record.modality());
  if (!modality.ok()) return modality.status();
  result.modality = *modality;
  result.num_parameters = record.num_parameters();
  switch (record.architecture()) {
    case v1::ARCHITECTURE_UNSPECIFIED:
      result.architecture = Architecture::kUnspecified;
      break;
    case v1::ARCHITECTURE_ENCODER:
      result.architecture = Architecture::kEncoder;
      break;
    case v1::ARCHITECTURE_DECODER:
      result.architecture = Architecture::kDecoder;
      break;
    case v1::ARCHITECTURE_ENCODER_DECODER:
      result.architecture = Architecture::kEncoderDecoder;
      break;
    case v1::ARCHITECTURE_OTHER:
      result.architecture = Architecture::kOther;
      break;
    default:
      return InvalidFieldError(
          "architecture", absl::StrCat(record.architecture(), " is not an Architecture value"));
  }
  result.library_name = record.library_name();
  return result;
}

absl::StatusOr<RankBy> FromProto(v1::RankBy by) {
  switch (by) {
    case v1::RANK_BY_UNSPECIFIED:
    case v1::RANK_BY_MODEL:
      return RankBy::kModel;
    case v1::RANK_BY_AUTHOR:
      return RankBy::kAuthor;
    default:
      return InvalidFieldError("by", absl::StrCat(by, " is not a RankBy value"));
  }
}

absl::StatusOr<AggregateKind> FromProto(v1::Dimension dimension) {
  switch (dimension) {
    case v1::DIMENSION_TASK:
      return AggregateKind::kTask;
    case v1::DIMENSION_ARCHITECTURE:
      return AggregateKind::kArchitecture;
    case v1::DIMENSION_LIBRARY:
      return AggregateKind::kLibrary;
    case v1::DIMENSION_UNSPECIFIED:
      return InvalidFieldError("dimension", "is required: TASK, ARCHITECTURE or LIBRARY");
    case v1::DIMENSION_MODALITY:
    case v1::DIMENSION_SIZE:
      return InvalidFieldError("dimension",
                               "MODALITY and SIZE are for cross-tabs; for one alone ask "
                               "GetModalityShare or GetSizeDistribution");
    default:
      return InvalidFieldError("dimension", absl::StrCat(dimension, " is not a Dimension value"));
  }
}

absl::StatusOr<TrendDimension> CrossDimensionFromProto(v1::Dimension dimension,
                                                       absl::string_view field) {
  switch (dimension) {
    case v1::DIMENSION_MODALITY:
      return TrendDimension::kModality;
    case v1::DIMENSION_SIZE:
      return TrendDimension::kSize;
    case v1::DIMENSION_TASK:
      return TrendDimension::kTask;
    case v1::DIMENSION_ARCHITECTURE:
      return TrendDimension::kArchitecture;
    case v1::DIMENSION_LIBRARY:
      return TrendDimension::kLibrary;
    case v1::DIMENSION_UNSPECIFIED:
      return InvalidFieldError(field, "is required: MODALITY, SIZE, TASK, ARCHITECTURE or LIBRARY");
    default:
      return InvalidFieldError(field, absl::StrCat(dimension, " is not a Dimension value"));
  }
}

absl::StatusOr<CrossTabQuery> FromProto(const v1::CrossTabRequest& request) {
  CrossTabQuery query;
  absl::StatusOr<TrendDimension> rows = CrossDimensionFromProto(request.rows(), "rows");
  if (!rows.ok()) return rows.status();
  absl::StatusOr<TrendDimension> columns = CrossDimensionFromProto(request.columns(), "columns");
  if (!columns.ok()) return columns.status();
  query.rows = *rows;
  query.columns = *columns;
  query.boundaries.assign(request.boundaries().begin(), request.boundaries().end());
  return query;
}

absl::StatusOr<TrendQuery> FromProto(const v1::TrendRequest& request) {
  TrendQuery query;
  switch (request.granularity()) {
    case v1::GRANULARITY_DAY:
      query.granularity = Granularity::kDay;
      break;
    case v1::GRANULARITY_WEEK:
      query.granularity = Granularity::kWeek;
      break;
    case v1::GRANULARITY_UNSPECIFIED:
    case v1::GRANULARITY_MONTH:
      query.granularity = Granularity::kMonth;
      break;
    default:
      return InvalidFieldError("granularity",
                               absl::StrCat(request.granularity(), " is not a Granularity value"));
  }
  switch (request.dimension()) {
    case v1::TREND_DIMENSION_UNSPECIFIED:
    case v1::TREND_DIMENSION_MODALITY:
      query.dimension = TrendDimension::kModality;
      break;
    case v1::TREND_DIMENSION_SIZE:
      query.dimension = TrendDimension::kSize;
      break;
    case v1::TREND_DIMENSION_TASK:
      query.dimension = TrendDimension::kTask;
      break;
    case v1::TREND_DIMENSION_ARCHITECTURE:
      query.dimension = TrendDimension::kArchitecture;
      break;
    case v1::TREND_DIMENSION_LIBRARY:
      query.dimension = TrendDimension::kLibrary;
      break;
    case v1::TREND_DIMENSION_TOP_MODELS:
      query.dimension = TrendDimension::kTopModels;
      break;
    case v1::TREND_DIMENSION_TOP_AUTHORS:
      query.dimension = TrendDimension::kTopAuthors;
      break;
    default:
      return InvalidFieldError("dimension",
                               absl::StrCat(request.dimension(), " is not a TrendDimension value"));
  }
  query.boundaries.assign(request.boundaries().begin(), request.boundaries().end());
  query.n = request.n() == 0 ? kDefaultTopN : request.n();
  return query;
}

absl::StatusOr<Freshness> FromProto(const v1::Freshness& freshness, uint32_t shard_count) {
  Freshness result;
  result.fresh = freshness.fresh();
  absl::StatusOr<VersionToken> token =
      VersionToken::Parse(freshness.min_version(), shard_count, "freshness.min_version");
  if (!token.ok()) return token.status();
  result.min_version = *std::move(token);
  return result;
}

RawEvent FromProto(const v1::DownloadEvent& event) {
  RawEvent raw;
  raw.model_id = event.model_id();
  if (event.has_timestamp()) {
    raw.timestamp_seconds = event.timestamp().seconds();
    raw.timestamp_nanos = event.timestamp().nanos();
  }
  if (event.has_count()) raw.count = event.count();
  raw.revision = event.revision();
  return raw;
}

v1::Modality ToProto(Modality modality) {
  return static_cast<v1::Modality>(static_cast<int>(modality) + 1);
}

v1::Date ToProto(Day day) {
  v1::Date date;
  const absl::CivilDay civil = day.civil();
  date.set_year(static_cast<int32_t>(civil.year()));
  date.set_month(civil.month());
  date.set_day(civil.day());
  return date;
}

v1::ModelRecord ToProto(const CatalogRecord& record) {
  v1::ModelRecord result;
  result.set_model_id(record.model_id);
  result.set_pipeline_tag(record.pipeline_tag);
  if (record.modality) result.set_modality(ToProto(*record.modality));
  result.set_num_parameters(record.num_parameters);
  result.set_architecture(static_cast<v1::Architecture>(record.architecture));
  result.set_library_name(record.library_name);
  return result;
}

namespace {

template <typename Rejections>
void AddRejections(const std::vector<ItemRejection>& from, Rejections* to) {
  for (const ItemRejection& rejection : from) {
    v1::Rejection* item = to->Add();
    item->set_index(rejection.index);
    item->set_field(rejection.field);
    item->set_reason(rejection.reason);
  }
}

}  // namespace

void ToProto(const IngestOutcome& outcome, v1::IngestResponse* response) {
  response->set_version(outcome.version.ToString());
  response->set_accepted(outcome.accepted);
  response->set_rejected(outcome.rejected);
  response->set_accepted_downloads(outcome.accepted_downloads);
  response->set_accepted_all_time_only(outcome.accepted_all_time_only);
  AddRejections(outcome.rejections, response->mutable_rejections());
}

void ToProto(const UpsertOutcome& outcome, v1::UpsertModelsResponse* response) {
  response->set_version(outcome.version.ToString());
  response->set_accepted(outcome.accepted);
  response->set_rejected(outcome.rejected);
  response->set_reclassified(outcome.reclassified);
  AddRejections(outcome.rejections, response->mutable_rejections());
}

void ToProto(const ModalityShare& share, v1::ModalityShareResponse* response) {
  response->set_total_downloads(share.total_downloads);
  for (const ModalityShareRow& row : share.rows) {
    v1::ModalityShareRow* out = response->add_rows();
    out->set_modality(ToProto(row.modality));
    out->set_name(std::string(ModalityName(row.modality)));
    out->set_downloads(row.downloads);
    out->set_share_pct(row.share_pct);
  }
}

void ToProto(const SizeDistribution& sizes, v1::SizeDistributionResponse* response) {
  response->set_total_downloads(sizes.total_downloads);
  response->set_known_downloads(sizes.known_downloads);
  response->set_unknown_downloads(sizes.unknown_downloads);
  response->set_unknown_share_pct(sizes.unknown_share_pct);
  for (int64_t boundary : sizes.boundaries) response->add_boundaries(boundary);
  for (const SizeRow& row : sizes.rows) {
    v1::SizeClassRow* out = response->add_rows();
    out->set_label(row.size_class.label);
    out->set_lower(row.size_class.lower);
    if (row.size_class.upper) out->set_upper(*row.size_class.upper);
    out->set_downloads(row.downloads);
    out->set_share_pct(row.share_pct);
    out->set_share_of_known_pct(row.share_of_known_pct);
    out->set_cumulative_pct(row.cumulative_pct);
  }
}

void ToProto(const TopN& top, v1::TopNResponse* response) {
  response->set_total_downloads(top.total_downloads);
  response->set_top_downloads(top.top_downloads);
  response->set_top_share_pct(top.top_share_pct);
  for (const TopRow& row : top.rows) {
    v1::TopNRow* out = response->add_rows();
    out->set_rank(row.rank);
    out->set_id(row.id);
    out->set_downloads(row.downloads);
    out->set_share_pct(row.share_pct);
    out->set_cumulative_pct(row.cumulative_pct);
  }
}

void ToProto(const Breakdown& breakdown, v1::BreakdownResponse* response) {
  response->set_total_downloads(breakdown.total_downloads);
  for (const BreakdownRow& row : breakdown.rows) {
    v1::BreakdownRow* out = response->add_rows();
    out->set_key(row.key);
    out->set_downloads(row.downloads);
    out->set_share_pct(row.share_pct);
  }
}

void ToProto(const Trend& trend, v1::TrendResponse* response) {
  switch (trend.granularity) {
    case Granularity::kDay:
      response->set_granularity(v1::GRANULARITY_DAY);
      break;
    case Granularity::kWeek:
      response->set_granularity(v1::GRANULARITY_WEEK);
      break;
    case Granularity::kMonth:
      response->set_granularity(v1::GRANULARITY_MONTH);
      break;
  }
  // The enums are declared in the same order (the proto's start at 1 after UNSPECIFIED).
  response->set_dimension(static_cast<v1::TrendDimension>(static_cast<int>(trend.dimension) + 1));
  for (const std::string& key : trend.keys) response->add_keys(key);
  for (int64_t boundary : trend.boundaries) response->add_boundaries(boundary);
  for (const TrendPeriod& period : trend.periods) {
    v1::TrendPeriod* out = response->add_periods();
    *out->mutable_start() = ToProto(period.period.start);
    *out->mutable_first_day() = ToProto(period.period.first);
    *out->mutable_last_day() = ToProto(period.period.last);
    out->set_total_downloads(period.total_downloads);
    for (size_t k = 0; k < trend.keys.size(); ++k) {
      v1::TrendValue* value = out->add_values();
      value->set_key(trend.keys[k]);
      value->set_downloads(period.downloads[k]);
      value->set_share_pct(period.share_pct[k]);
    }
  }
}

void ToProto(const Population& population, v1::TotalsResponse* response) {
  response->set_total_downloads(population.total_downloads);
  response->set_models_with_downloads(population.models_with_downloads);
  response->set_authors_with_downloads(population.authors_with_downloads);
  response->set_catalogued_models(population.catalogued_models);
  if (population.first_day) *response->mutable_first_day() = ToProto(*population.first_day);
  if (population.last_day) *response->mutable_last_day() = ToProto(*population.last_day);
}

void ToProto(const ModelStats& stats, v1::ModelStatsResponse* response) {
  response->set_model_id(stats.model_id);
  response->set_author(stats.author);
  response->set_catalogued(stats.record.has_value());
  if (stats.record) *response->mutable_record() = ToProto(*stats.record);
  response->set_modality(ToProto(stats.model_class.modality));
  response->set_modality_name(std::string(ModalityName(stats.model_class.modality)));
  response->set_size_class(stats.size_class);
  response->set_downloads_all_time(stats.downloads_all_time);
  response->set_downloads_in_range(stats.downloads_in_range);
  response->set_rank_all_time(stats.rank_all_time);
  response->set_rank_in_range(stats.rank_in_range);
  for (const auto& [revision, downloads] : stats.revisions) {
    v1::RevisionCount* out = response->add_revisions();
    out->set_revision(revision);
    out->set_downloads(downloads);
  }
  for (const DayDownloads& day : stats.days) {
    v1::DayCount* out = response->add_days();
    *out->mutable_day() = ToProto(day.day);
    out->set_downloads(day.downloads);
  }
  for (const DayDownloads& month : stats.months) {
    v1::DayCount* out = response->add_months();
    *out->mutable_day() = ToProto(month.day);
    out->set_downloads(month.downloads);
  }
}

namespace {

void AddBreakdownRows(const std::vector<BreakdownRow>& rows,
                      google::protobuf::RepeatedPtrField<v1::BreakdownRow>* out) {
  for (const BreakdownRow& row : rows) {
    v1::BreakdownRow* added = out->Add();
    added->set_key(row.key);
    added->set_downloads(row.downloads);
    added->set_share_pct(row.share_pct);
  }
}

}  // namespace

void ToProto(const CrossTab& table, v1::CrossTabResponse* response) {
  response->set_total_downloads(table.total_downloads);
  AddBreakdownRows(table.rows, response->mutable_rows());
  AddBreakdownRows(table.columns, response->mutable_columns());
  response->mutable_cells()->Reserve(static_cast<int>(table.cells.size()));
  for (size_t r = 0; r < table.rows.size(); ++r) {
    for (size_t c = 0; c < table.columns.size(); ++c) {
      const CrossTabCell& cell = table.cell(r, c);
      v1::CrossTabCell* out = response->add_cells();
      out->set_row(table.rows[r].key);
      out->set_column(table.columns[c].key);
      out->set_downloads(cell.downloads);
      out->set_share_pct(cell.share_pct);
      out->set_row_share_pct(cell.row_share_pct);
    }
  }
  for (int64_t boundary : table.boundaries) response->add_boundaries(boundary);
}

void ToProto(const ExportedModel& model, v1::ExportedModel* out) {
  out->set_rank(model.rank);
  out->set_model_id(model.id);
  out->set_author(model.author);
  out->set_downloads(model.downloads);
  out->set_share_pct(model.share_pct);
  out->set_modality(std::string(ModalityName(model.modality)));
  out->set_task(model.task);
  out->set_architecture(model.architecture);
  out->set_library(model.library);
  if (model.parameters) out->set_num_parameters(*model.parameters);
  out->set_size_class(model.size_class);
  out->set_catalogued(model.catalogued);
}

void ToProto(const AsOf& as_of, v1::AsOf* out) {
  VersionToken token;
  for (uint32_t shard = 0; shard < as_of.versions.size(); ++shard) {
    token.shards.emplace_back(shard, as_of.versions[shard]);
  }
  out->set_version(token.ToString());
  if (as_of.time) {
    const int64_t nanos = absl::ToUnixNanos(*as_of.time);
    out->mutable_time()->set_seconds(nanos / 1'000'000'000);
    out->mutable_time()->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  }
}

}  // namespace hubstats
