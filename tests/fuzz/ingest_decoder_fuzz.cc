// libFuzzer target: arbitrary bytes through DecodeIngestRequest (service/grpc/ingest_decoder.h),
// checked against protobuf's own parser on a copy of IngestRequest with `bytes` for `string`
// (the differential test's ingest_wire.proto, so UTF-8 is not protobuf's to judge).
//
// Invariants: whatever the decoder accepts, protobuf accepts with the same content (every
// field of every event, then every packed event built from its columns, the producer and
// sequence), and every view lies inside the message; whatever protobuf accepts, the decoder
// accepts too, unless the decoder names a limit of its own (groups nested deeper than
// kMaxGroupDepth, more events than allowed) or the packed columns break a rule of the API
// (a column neither empty nor one entry per event, nanos without seconds, an index out of
// range; recomputed here from protobuf's parse). A refusal is INVALID_ARGUMENT.
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

// Whether the packed columns follow the API's rules (hubstats.proto, PackedEvents), from
// protobuf's parse: each optional column empty or one entry per event, nanos only with
// seconds, every index inside its dictionary.
bool PackedColumnsFit(const test::WirePacked& packed) {
  const int events = packed.model_index_size();
  for (int size : {packed.timestamp_seconds_size(), packed.timestamp_nanos_size(),
                   packed.counts_size(), packed.revision_index_size()}) {
    if (size != 0 && size != events) return false;
  }
  if (packed.timestamp_nanos_size() > 0 && packed.timestamp_seconds_size() == 0) return false;
  for (uint32_t index : packed.model_index()) {
    if (index >= static_cast<uint32_t>(packed.model_ids_size())) return false;
  }
  for (uint32_t index : packed.revision_index()) {
    if (index >= static_cast<uint32_t>(packed.revisions_size())) return false;
  }
  return true;
}

// The packed event `i` as the API defines it, in the form of an event of `events`.
test::WireEvent PackedEvent(const test::WirePacked& packed, int i) {
  test::WireEvent event;
  event.set_model_id(packed.model_ids(static_cast<int>(packed.model_index(i))));
  if (packed.timestamp_seconds_size() > 0) {
    event.mutable_timestamp()->set_seconds(packed.timestamp_seconds(i));
    if (packed.timestamp_nanos_size() > 0) {
      event.mutable_timestamp()->set_nanos(packed.timestamp_nanos(i));
    }
  }
  if (packed.counts_size() > 0) event.set_count(packed.counts(i));
  if (packed.revision_index_size() > 0) {
    event.set_revision(packed.revisions(static_cast<int>(packed.revision_index(i))));
  }
  return event;
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
  const size_t wire_events =
      protobuf_ok ? static_cast<size_t>(parsed.events_size() + parsed.packed().model_index_size())
                  : 0;
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    const bool own_limit = absl::StrContains(status.message(), "nested deeper") ||
                           absl::StrContains(status.message(), "at most");
    const bool packed_rule = absl::StrContains(status.message(), "packed.");
    FUZZ_CHECK(!protobuf_ok || own_limit || packed_rule);
    if (protobuf_ok && packed_rule) FUZZ_CHECK(!PackedColumnsFit(parsed.packed()));
    if (protobuf_ok && own_limit && !absl::StrContains(status.message(), "nested deeper")) {
      FUZZ_CHECK(wire_events > kMaxEvents);
    }
    return 0;
  }
  FUZZ_CHECK(protobuf_ok);
  FUZZ_CHECK(PackedColumnsFit(parsed.packed()));
  FUZZ_CHECK(batch.event_count == batch.events.size());
  FUZZ_CHECK(batch.events.size() <= kMaxEvents);
  FUZZ_CHECK(batch.events.size() == wire_events);
  FUZZ_CHECK(batch.DecodedSize() == batch.bytes.size() + batch.event_count * kDecodedBytesPerEvent);
  FUZZ_CHECK(Inside(batch.producer_id, batch.bytes));
  FUZZ_CHECK(batch.producer_id == parsed.producer_id());
  FUZZ_CHECK(batch.sequence == parsed.sequence());
  for (size_t i = 0; i < batch.events.size(); ++i) {
    const RawEvent& got = batch.events[i];
    const int index = static_cast<int>(i);
    const test::WireEvent want = index < parsed.events_size()
                                     ? parsed.events(index)
                                     : PackedEvent(parsed.packed(), index - parsed.events_size());
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
