// IngestDecoder: hubstats.v1.IngestRequest from its wire bytes, without protobuf message
// objects.
//
// Why not the generated parser: (1) a message that cannot be decoded must be refused with
// INVALID_ARGUMENT saying what is wrong and where, which the generated parser cannot tell;
// (2) a string that is not UTF-8 inside one event must reject that event only (its model id or
// revision then fails validation), while the generated parser refuses the whole message; (3) a
// parsed message costs about 20 times its wire size in small heap objects, so an ingest budget
// counted in wire bytes was no bound: here each event is one fixed-size RawEvent that views
// the message's bytes, and DecodedSize() states what a batch holds.
//
// The decoding follows protobuf's rules: fields in any order, unknown fields (and groups, up to
// kMaxGroupDepth deep) skipped, a known field with another wire type treated as unknown, the
// last value of a repeated scalar winning, a repeated Timestamp merged field by field.
#ifndef HUBSTATS_SERVICE_GRPC_INGEST_DECODER_H_
#define HUBSTATS_SERVICE_GRPC_INGEST_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/event.h"

namespace hubstats {

inline constexpr int kMaxGroupDepth = 64;

// Memory a decoded event may come to hold until its batch is answered: its RawEvent, the
// validated event and, when it is refused, its rejection and the rejection's answer. An upper
// estimate (checked in ingest_decoder_test.cc against the sizes of those types).
inline constexpr size_t kDecodedBytesPerEvent = 320;

struct DecodedBatch {
  std::string bytes;  // The message; events and producer_id view it.
  std::vector<RawEvent> events;
  absl::string_view producer_id;
  uint64_t sequence = 0;
  // Events the message holds (events.size(), or more when decoding stopped at the limit).
  size_t event_count = 0;

  // What the batch holds in memory: its bytes plus kDecodedBytesPerEvent per event.
  size_t DecodedSize() const { return bytes.size() + event_count * kDecodedBytesPerEvent; }
};

// The columns of IngestRequest.packed as on the wire (views into the batch's bytes), before they
// become events.
struct PackedColumns {
  std::vector<absl::string_view> model_ids;
  std::vector<uint32_t> model_index;
  std::vector<int64_t> timestamp_seconds;
  std::vector<int32_t> timestamp_nanos;
  std::vector<int64_t> counts;
  std::vector<absl::string_view> revisions;
  std::vector<uint32_t> revision_index;
};

// Decodes `bytes` (taken over by the batch) into `batch`: `events` then the packed events.
// INVALID_ARGUMENT naming the place and the problem for bytes that are not an IngestRequest
// (truncated, bad varint, bad wire type, field number 0, groups nested deeper than kMaxGroupDepth
// or unbalanced), and INVALID_ARGUMENT on field "events" when the message holds more than
// `max_events` events (then `event_count` says how many it holds and no RawEvent is kept);
// INVALID_ARGUMENT naming the column for packed columns of the wrong length or with an index out of
// range.
absl::Status DecodeIngestRequest(std::string bytes, size_t max_events, DecodedBatch& batch);

// The wire decoding alone: `events` decoded, the packed columns as they came (for tests that
// compare the decoding with protobuf's).
absl::Status DecodeIngestWire(std::string bytes, size_t max_events, DecodedBatch& batch,
                              PackedColumns& columns);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_GRPC_INGEST_DECODER_H_
