#include "grpc/ingest_decoder.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "core/field_error.h"

namespace hubstats {
namespace {

enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// Reads protobuf wire format from a view. Every method returns false (and leaves `error_`)
// when the bytes run out or break the format.
class WireReader {
 public:
  explicit WireReader(absl::string_view bytes) : bytes_(bytes) {}

  bool done() const { return position_ == bytes_.size(); }
  const std::string& error() const { return error_; }

  // Like protobuf, bits past the 64th of a 10-byte varint are dropped.
  bool Varint(uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (position_ == bytes_.size()) return Fail("truncated varint");
      const auto byte = static_cast<uint8_t>(bytes_[position_++]);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return Fail("varint longer than 10 bytes");
  }

  // Like protobuf, a tag is at most 5 bytes, its bits past the 32nd dropped.
  bool Tag(uint32_t& field, WireType& type) {
    uint32_t tag = 0;
    for (int shift = 0;; shift += 7) {
      if (shift == 35) return Fail("tag longer than 5 bytes");
      if (position_ == bytes_.size()) return Fail("truncated tag");
      const auto byte = static_cast<uint8_t>(bytes_[position_++]);
      tag |= static_cast<uint32_t>(static_cast<uint64_t>(byte & 0x7f) << shift);
      if ((byte & 0x80) == 0) break;
    }
    field = tag >> 3;
    type = static_cast<WireType>(tag & 7);
    if (field == 0) return Fail("field number 0");
    if (type > kFixed32) return Fail(absl::StrCat("field ", field, ": unknown wire type ", type));
    return true;
  }

  bool LengthDelimited(absl::string_view& value) {
    uint64_t length = 0;
    if (!Varint(length)) return false;
    if (length > bytes_.size() - position_) return Fail("length past the end of the message");
    value = bytes_.substr(position_, length);
    position_ += length;
    return true;
  }

  // Skips one field whose tag was just read. A group is skipped through its end tag.
  bool Skip(uint32_t field, WireType type, int depth = 0) {
    switch (type) {
      case kVarint: {
        uint64_t ignored = 0;
        return Varint(ignored);
      }
      case kFixed64:
        return Advance(8);
      case kFixed32:
        return Advance(4);
      case kLengthDelimited: {
        absl::string_view ignored;
        return LengthDelimited(ignored);
      }
      case kStartGroup: {
        if (depth >= kMaxGroupDepth) {
          return Fail(absl::StrCat("groups nested deeper than ", kMaxGroupDepth));
        }
        while (true) {
          uint32_t inner_field = 0;
          WireType inner_type = kVarint;
          if (!Tag(inner_field, inner_type)) return false;
          if (inner_type == kEndGroup) {
            if (inner_field != field) return Fail("group ends with another field's end tag");
            return true;
          }
          if (!Skip(inner_field, inner_type, depth + 1)) return false;
        }
      }
      case kEndGroup:
        return Fail(absl::StrCat("field ", field, ": end of a group that was not started"));
    }
    return Fail("unknown wire type");
  }

 private:
  bool Advance(size_t count) {
    if (count > bytes_.size() - position_) return Fail("truncated fixed-size field");
    position_ += count;
    return true;
  }
  bool Fail(std::string error) {
    if (error_.empty()) error_ = std::move(error);
    return false;
  }

  absl::string_view bytes_;
  size_t position_ = 0;
  std::string error_;
};

// google.protobuf.Timestamp, merged into `event` (a repeated occurrence merges field by field).
bool DecodeTimestamp(absl::string_view bytes, RawEvent& event, std::string& error) {
  WireReader reader(bytes);
  if (!event.timestamp_seconds) event.timestamp_seconds = 0;
  while (!reader.done()) {
    uint32_t field = 0;
    WireType type = kVarint;
    if (!reader.Tag(field, type)) break;
    if ((field == 1 || field == 2) && type == kVarint) {
      uint64_t value = 0;
      if (!reader.Varint(value)) break;
      if (field == 1) {
        event.timestamp_seconds = static_cast<int64_t>(value);
      } else {
        event.timestamp_nanos = static_cast<int32_t>(value);
      }
    } else if (!reader.Skip(field, type)) {
      break;
    }
  }
  error = reader.error();
  return error.empty();
}

bool DecodeEvent(absl::string_view bytes, RawEvent& event, std::string& error) {
  WireReader reader(bytes);
  while (!reader.done()) {
    uint32_t field = 0;
    WireType type = kVarint;
    if (!reader.Tag(field, type)) break;
    if ((field == 1 || field == 4) && type == kLengthDelimited) {
      absl::string_view value;
      if (!reader.LengthDelimited(value)) break;
      (field == 1 ? event.model_id : event.revision) = value;
    } else if (field == 2 && type == kLengthDelimited) {
      absl::string_view value;
      if (!reader.LengthDelimited(value)) break;
      if (!DecodeTimestamp(value, event, error)) {
        error = absl::StrCat("timestamp: ", error);
        return false;
      }
    } else if (field == 3 && type == kVarint) {
      uint64_t value = 0;
      if (!reader.Varint(value)) break;
      event.count = static_cast<int64_t>(value);
    } else if (!reader.Skip(field, type)) {
      break;
    }
  }
  error = reader.error();
  return error.empty();
}

absl::Status Malformed(absl::string_view where, absl::string_view problem) {
  return InvalidFieldError(
      where, absl::StrCat("the message is not a valid hubstats.v1.IngestRequest: ", problem));
}

}  // namespace

absl::Status DecodeIngestRequest(std::string bytes, size_t max_events, DecodedBatch& batch) {
  batch = DecodedBatch();
  batch.bytes = std::move(bytes);
  const absl::string_view view(batch.bytes);

  // First pass: the shape of the message, and how many events it holds, before anything is
  // allocated for them.
  WireReader reader(view);
  size_t events = 0;
  while (!reader.done()) {
    uint32_t field = 0;
    WireType type = kVarint;
    if (!reader.Tag(field, type)) break;
    if (field == 1 && type == kLengthDelimited) ++events;
    if (!reader.Skip(field, type)) break;
  }
  if (!reader.error().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the message is not a valid hubstats.v1.IngestRequest: ", reader.error(),
                     " (after ", events, " events)"));
  }
  batch.event_count = events;
  if (events > max_events) {
    return InvalidFieldError("events", absl::StrCat("at most ", max_events, " per request, got ",
                                                    events, "; split the batch"));
  }

  batch.events.reserve(events);
  WireReader fields(view);
  std::string error;
  while (!fields.done()) {
    uint32_t field = 0;
    WireType type = kVarint;
    fields.Tag(field, type);  // Checked by the first pass.
    if (field == 1 && type == kLengthDelimited) {
      absl::string_view value;
      fields.LengthDelimited(value);
      RawEvent& event = batch.events.emplace_back();
      if (!DecodeEvent(value, event, error)) {
        return Malformed(absl::StrCat("events[", batch.events.size() - 1, "]"), error);
      }
    } else if (field == 2 && type == kLengthDelimited) {
      fields.LengthDelimited(batch.producer_id);
    } else if (field == 3 && type == kVarint) {
      fields.Varint(batch.sequence);
    } else {
      fields.Skip(field, type);
    }
  }
  return absl::OkStatus();
}

}  // namespace hubstats
