// libFuzzer target: event and catalog validation (service/core/event.h, catalog.h) on
// arbitrary field values. Invariants: an accepted event has a count in 1..1e9, a day from
// 2015-01-01 to a day after receipt, its author is the id's owner part; a refused one names
// one of its fields. An accepted record survives SerializeRecord / ParseRecord unchanged.
#include <fuzzer/FuzzedDataProvider.h>

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/catalog.h"
#include "core/event.h"
#include "core/field_error.h"
#include "fuzz_check.h"

namespace hubstats {
namespace {

void CheckEvent(FuzzedDataProvider& input) {
  const std::string model_id = input.ConsumeRandomLengthString(300);
  const std::string revision = input.ConsumeRandomLengthString(300);
  RawEvent event;
  event.model_id = model_id;
  event.revision = revision;
  if (input.ConsumeBool()) event.count = input.ConsumeIntegral<int64_t>();
  if (input.ConsumeBool()) {
    event.timestamp_seconds = input.ConsumeIntegral<int64_t>();
    event.timestamp_nanos = input.ConsumeIntegral<int32_t>();
  }
  const absl::Time received = absl::FromUnixSeconds(1'726'833'600);  // 2024-09-20T12:00:00Z
  absl::StatusOr<ValidEvent> valid = ValidateEvent(event, received);
  if (!valid.ok()) {
    static const std::set<std::string> kFields = {"model_id", "timestamp", "count", "revision"};
    FUZZ_CHECK(valid.status().code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(kFields.contains(FieldOf(valid.status())));
    return;
  }
  FUZZ_CHECK(valid->count >= 1 && valid->count <= kMaxEventCount);
  FUZZ_CHECK(valid->model_id == model_id);
  FUZZ_CHECK(valid->revision == revision);
  FUZZ_CHECK(!valid->author.empty());
  FUZZ_CHECK(model_id.find('/') == std::string::npos ||
             absl::StartsWith(model_id, absl::StrCat(valid->author, "/")));
  const absl::CivilDay day = valid->day.civil();
  FUZZ_CHECK(day >= absl::CivilDay(2015, 1, 1) && day <= absl::CivilDay(2024, 9, 21));
}

void CheckRecord(FuzzedDataProvider& input) {
  CatalogRecord record;
  record.model_id = input.ConsumeRandomLengthString(200);
  record.pipeline_tag = input.ConsumeRandomLengthString(80);
  if (input.ConsumeBool())
    record.modality = static_cast<Modality>(input.ConsumeIntegral<uint8_t>());
  record.num_parameters = input.ConsumeIntegral<int64_t>();
  record.architecture = static_cast<Architecture>(input.ConsumeIntegralInRange<uint8_t>(0, 4));
  record.library_name = input.ConsumeRandomLengthString(80);
  const absl::Status valid = ValidateRecord(record);
  if (!valid.ok()) {
    FUZZ_CHECK(!FieldOf(valid).empty());
    return;
  }
  absl::StatusOr<CatalogRecord> parsed = ParseRecord(record.model_id, SerializeRecord(record));
  FUZZ_CHECK(parsed.ok());
  FUZZ_CHECK(*parsed == record);
}

}  // namespace
}  // namespace hubstats

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  if (input.ConsumeBool()) {
    hubstats::CheckEvent(input);
  } else {
    hubstats::CheckRecord(input);
  }
  return 0;
}
