// libFuzzer target: arbitrary bytes through DecodeIngestRequest (service/grpc/ingest_decoder.h),
// checked against protobuf's own parser on a copy of IngestRequest with `bytes` for `string`
// (the differential test's ingest_wire.proto, so UTF-8 is not protobuf's to judge).
//
// Invariants: whatever the decoder accepts, protobuf accepts with the same content (every
// field of every event, the producer and sequence), and every view lies inside the message;
// whatever protobuf accepts, the decoder accepts too, unless the decoder names a limit of its
// own (groups nested deeper than kMaxGroupDepth, more events than allowed). A refusal is
// INVALID_ARGUMENT. When the decoder learns the `packed` column form (v2), this target covers
// it unchanged: the bytes are the decoder's to interpret.
#include <string>

#include "absl/strings/match.h"
#include "fuzz_check.h"
#include "grpc/ingest_decoder.h"
#include "ingest_wire.pb.h"

namespace hubstats {
namespace {

bool Inside(absl::string_view view, const std::string& bytes) {
  if (view.empty()) return true;
  return view.data() >= bytes.data() && view.data() + view.size() <= bytes.data() + bytes.size();
}

}  // namespace
}  // namespace hubstats

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hubstats;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  constexpr size_t kMaxEvents = 1000;
  DecodedBatch batch;
  const absl::Status status = DecodeIngestRequest(bytes, kMaxEvents, batch);
  test::WireRequest parsed;
  const bool protobuf_ok = parsed.ParseFromString(bytes);
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    const bool own_limit = absl::StrContains(status.message(), "nested deeper") ||
                           absl::StrContains(status.message(), "at most");
    FUZZ_CHECK(!protobuf_ok || own_limit);
    return 0;
  }
  FUZZ_CHECK(protobuf_ok);
  FUZZ_CHECK(batch.event_count == batch.events.size());
  FUZZ_CHECK(batch.events.size() <= kMaxEvents);
  FUZZ_CHECK(batch.events.size() == static_cast<size_t>(parsed.events_size()));
  FUZZ_CHECK(batch.DecodedSize() == batch.bytes.size() + batch.event_count * kDecodedBytesPerEvent);
  FUZZ_CHECK(Inside(batch.producer_id, batch.bytes));
  FUZZ_CHECK(batch.producer_id == parsed.producer_id());
  FUZZ_CHECK(batch.sequence == parsed.sequence());
  for (size_t i = 0; i < batch.events.size(); ++i) {
    const RawEvent& got = batch.events[i];
    const test::WireEvent& want = parsed.events(static_cast<int>(i));
    FUZZ_CHECK(Inside(got.model_id, batch.bytes));
    FUZZ_CHECK(Inside(got.revision, batch.bytes));
    FUZZ_CHECK(got.model_id == want.model_id());
    FUZZ_CHECK(got.revision == want.revision());
    FUZZ_CHECK(got.count.has_value() == want.has_count());
    if (want.has_count()) FUZZ_CHECK(*got.count == want.count());
    FUZZ_CHECK(got.timestamp_seconds.has_value() == want.has_timestamp());
    if (want.has_timestamp()) {
      FUZZ_CHECK(*got.timestamp_seconds == want.timestamp().seconds());
      FUZZ_CHECK(got.timestamp_nanos == want.timestamp().nanos());
    }
  }
  return 0;
}
