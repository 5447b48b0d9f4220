// Batch identity for exactly-once ingestion: who sent a batch, its number, and its content.
#ifndef HUBSTATS_SERVICE_CORE_BATCH_H_
#define HUBSTATS_SERVICE_CORE_BATCH_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/event.h"

namespace hubstats {

// Sequences are kept as sorted-set scores in Redis: exact up to 2^53 - 1.
inline constexpr uint64_t kMaxSequence = (uint64_t{1} << 53) - 1;

// Identifies a batch for deduplication.
struct BatchIdentity {
  // A client's producer id, or an id the server made for one stream (see `from_client`).
  std::string producer_id;
  uint64_t sequence = 0;
  // True for client producers: their sequences are checked for order and remembered, so
  // re-sends across calls and replicas are recognised. False for the server's own per-stream
  // ids: only the per-shard marks are kept, so the server can retry a batch inside one call.
  bool from_client = true;
  // BatchDigest of the events (client producers only): a re-sent sequence must carry the same
  // events.
  uint64_t digest = 0;
};

// OK, or INVALID_ARGUMENT naming "producer_id" or "sequence": an id of 1-128 characters of
// [A-Za-z0-9._:-] with a sequence in 1..kMaxSequence, or no id and sequence 0.
absl::Status ValidateProducer(absl::string_view producer_id, uint64_t sequence);

// A 64-bit FNV-1a digest of the events as received (ids, times, counts, revisions, and which
// optional fields were present), in order.
uint64_t BatchDigest(absl::Span<const RawEvent> events);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_CORE_BATCH_H_
