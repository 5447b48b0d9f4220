// libFuzzer target: request bytes through protobuf parsing and the gRPC edge's conversions to
// the service's types (service/grpc/proto_convert.h), as the handlers apply them. The first
// byte picks the request type. Invariants: a converted range is ordered; a converted record
// validates or names its field; an event converted and validated keeps its id and revision; a
// version token (freshness.min_version) converts to one that prints and parses back the same.
#include <string>

#include "absl/time/time.h"
#include "core/catalog.h"
#include "core/field_error.h"
#include "fuzz_check.h"
#include "grpc/proto_convert.h"
#include "hubstats/v1/hubstats.pb.h"

namespace hubstats {
namespace {

template <typename Request>
bool Parse(const std::string& bytes, Request& request) {
  return request.ParseFromString(bytes);
}

void CheckRange(const v1::DateRange* range) {
  absl::StatusOr<DayRange> converted = FromProto(range);
  if (!converted.ok()) {
    FUZZ_CHECK(FieldOf(converted.status()).rfind("range.", 0) == 0);
    return;
  }
  if (converted->first.has_value() && converted->last.has_value()) {
    FUZZ_CHECK(*converted->first <= *converted->last);
    // A valid day converts back to the same date.
    const v1::Date start = ToProto(*converted->first);
    FUZZ_CHECK(start.year() == range->start().year() && start.month() == range->start().month() &&
               start.day() == range->start().day());
  }
}

// A converted min_version names only shards of the store, each once, ascending, and prints
// back as a token that converts to the same; a refused one names the field.
void CheckFreshness(const v1::Freshness& freshness) {
  constexpr uint32_t kShards = 16;
  absl::StatusOr<Freshness> converted = FromProto(freshness, kShards);
  if (!converted.ok()) {
    FUZZ_CHECK(converted.status().code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(FieldOf(converted.status()).find("min_version") != std::string::npos);
    return;
  }
  FUZZ_CHECK(converted->fresh == freshness.fresh());
  const auto& shards = converted->min_version.shards;
  for (size_t i = 0; i < shards.size(); ++i) {
    FUZZ_CHECK(shards[i].first < kShards);
    if (i > 0) FUZZ_CHECK(shards[i - 1].first < shards[i].first);
  }
  absl::StatusOr<VersionToken> again =
      VersionToken::Parse(converted->min_version.ToString(), kShards);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->shards == shards);
}

template <typename Request>
void CheckQuery(const std::string& bytes) {
  Request request;
  if (!Parse(bytes, request)) return;
  CheckRange(request.has_range() ? &request.range() : nullptr);
  CheckFreshness(request.freshness());
}

void CheckUpsert(const std::string& bytes) {
  v1::UpsertModelsRequest request;
  if (!Parse(bytes, request)) return;
  for (const v1::ModelRecord& model : request.models()) {
    absl::StatusOr<CatalogRecord> record = FromProto(model);
    if (!record.ok()) {
      FUZZ_CHECK(!FieldOf(record.status()).empty());
      continue;
    }
    FUZZ_CHECK(record->model_id == model.model_id());
    const absl::Status valid = ValidateRecord(*record);
    FUZZ_CHECK(valid.ok() || !FieldOf(valid).empty());
    if (valid.ok()) {
      const v1::ModelRecord back = ToProto(*record);
      FUZZ_CHECK(back.model_id() == model.model_id());
      FUZZ_CHECK(back.num_parameters() == model.num_parameters());
    }
  }
}

void CheckEvents(const std::string& bytes) {
  v1::IngestRequest request;
  if (!Parse(bytes, request)) return;
  for (const v1::DownloadEvent& event : request.events()) {
    const RawEvent raw = FromProto(event);
    FUZZ_CHECK(raw.model_id == event.model_id());
    FUZZ_CHECK(raw.count.has_value() == event.has_count());
    absl::StatusOr<ValidEvent> valid = ValidateEvent(raw, absl::FromUnixSeconds(1'726'833'600));
    if (valid.ok()) FUZZ_CHECK(valid->revision == event.revision());
  }
}

void CheckEnums(const std::string& bytes) {
  v1::TopNRequest top;
  if (Parse(bytes, top)) {
    (void)FromProto(top.by());
    (void)ModalityFilterFromProto(top.modality());
  }
  v1::BreakdownRequest breakdown;
  if (Parse(bytes, breakdown)) (void)FromProto(breakdown.dimension());
}

}  // namespace
}  // namespace hubstats

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  using namespace hubstats;
  switch (data[0] % 8) {
    case 0:
      CheckQuery<v1::ModalityShareRequest>(bytes);
      break;
    case 1:
      CheckQuery<v1::SizeDistributionRequest>(bytes);
      break;
    case 2:
      CheckQuery<v1::TopNRequest>(bytes);
      break;
    case 3:
      CheckQuery<v1::TotalsRequest>(bytes);
      break;
    case 4:
      CheckQuery<v1::ModelStatsRequest>(bytes);
      break;
    case 5:
      CheckUpsert(bytes);
      break;
    case 6:
      CheckEvents(bytes);
      break;
    default:
      CheckEnums(bytes);
      break;
  }
  return 0;
}
