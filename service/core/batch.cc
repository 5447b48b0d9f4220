#include "core/batch.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/field_error.h"

namespace hubstats {
namespace {

class Fnv {
 public:
  void Bytes(absl::string_view bytes) {
    for (unsigned char c : bytes) {
      hash_ ^= c;
      hash_ *= 1099511628211ull;
    }
  }
  void Integer(uint64_t value) {
    for (int i = 0; i < 8; ++i)
      Bytes(absl::string_view(reinterpret_cast<const char*>(&value) + i, 1));
  }
  // Length first, so ("ab","c") and ("a","bc") differ.
  void String(absl::string_view text) {
    Integer(text.size());
    Bytes(text);
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 14695981039346656037ull;
};

}  // namespace

absl::Status ValidateProducer(absl::string_view producer_id, uint64_t sequence) {
  if (producer_id.empty()) {
    if (sequence != 0) return InvalidFieldError("producer_id", "is required with a sequence");
    return absl::OkStatus();
  }
  if (producer_id.size() > 128) {
    return InvalidFieldError(
        "producer_id", absl::StrCat("must be at most 128 characters, got ", producer_id.size()));
  }
  for (char c : producer_id) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != ':' && c != '-') {
      return InvalidFieldError("producer_id",
                               "may hold only letters, digits, '.', '_', ':' and '-'");
    }
  }
  if (sequence == 0 || sequence > kMaxSequence) {
    return InvalidFieldError("sequence", absl::StrCat("must be between 1 and ", kMaxSequence,
                                                      " with a producer_id, got ", sequence));
  }
  return absl::OkStatus();
}

uint64_t BatchDigest(absl::Span<const RawEvent> events) {
  Fnv fnv;
  fnv.Integer(events.size());
  for (const RawEvent& event : events) {
    fnv.String(event.model_id);
    fnv.Integer(event.timestamp_seconds.has_value());
    fnv.Integer(static_cast<uint64_t>(event.timestamp_seconds.value_or(0)));
    fnv.Integer(static_cast<uint64_t>(event.timestamp_nanos));
    fnv.Integer(event.count.has_value());
    fnv.Integer(static_cast<uint64_t>(event.count.value_or(0)));
    fnv.String(event.revision);
  }
  return fnv.value();
}

}  // namespace hubstats
