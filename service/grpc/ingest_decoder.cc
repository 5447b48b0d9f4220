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

  // Like protobuf, a length is at most 5 bytes and below 2 GiB (an overlong encoding of a
  // small length, e.g. 0x80 0x80 0x80 0x80 0x80 0x00, is refused, not read as 0).
  bool LengthDelimited(absl::string_view& value) {
    uint64_t length = 0;
    for (int shift = 0;; shift += 7) {
      if (position_ == bytes_.size()) return Fail("truncated length");
      const auto byte = static_cast<uint8_t>(bytes_[position_++]);
      if (shift == 28 && (byte & 0x80) != 0) return Fail("length longer than 5 bytes");
      if (shift == 28 && byte >= 8) return Fail("length of 2 GiB or more");
      length |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) break;
    }
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

// One repeated scalar column, packed (one length-delimited run) or not (one varint each).
template <typename T>
bool AppendScalars(WireReader& reader, WireType type, std::vector<T>& column) {
  if (type == kVarint) {
    uint64_t value = 0;
    if (!reader.Varint(value)) return false;
    column.push_back(static_cast<T>(value));
    return true;
  }
  absl::string_view run;
  if (!reader.LengthDelimited(run)) return false;
  WireReader values(run);
  while (!values.done()) {
    uint64_t value = 0;
    if (!values.Varint(value)) return false;
    column.push_back(static_cast<T>(value));
  }
  return true;
}

// Events in a PackedEvents message: its model_index entries.
bool CountPacked(absl::string_view bytes, size_t& events, std::string& error) {
  WireReader reader(bytes);
  while (!reader.done()) {
    uint32_t field = 0;
    WireType type = kVarint;
    if (!reader.Tag(field, type)) break;
    if (field == 2 && type == kLengthDelimited) {
      absl::string_view run;
      if (!reader.LengthDelimited(run)) break;
      for (char byte : run) events += (static_cast<uint8_t>(byte) & 0x80) == 0;
    } else if (field == 2 && type == kVarint) {
      ++events;
      if (!reader.Skip(field, type)) break;
    } else if (!reader.Skip(field, type)) {
      break;
    }
  }
  error = reader.error();
  return error.empty();
}

// Appends one PackedEvents message's columns (repeated occurrences of the field concatenate, as
// protobuf merges them).
bool DecodePacked(absl::string_view bytes, PackedColumns& columns, std::string& error) {
  WireReader reader(bytes);
  while (!reader.done()) {
    uint32_t field = 0;
    WireType type = kVarint;
    if (!reader.Tag(field, type)) break;
    const bool scalar = type == kVarint || type == kLengthDelimited;
    bool ok = true;
    if ((field == 1 || field == 6) && type == kLengthDelimited) {
      absl::string_view value;
      ok = reader.LengthDelimited(value);
      (field == 1 ? columns.model_ids : columns.revisions).push_back(value);
    } else if (field == 2 && scalar) {
      ok = AppendScalars(reader, type, columns.model_index);
    } else if (field == 3 && scalar) {
      ok = AppendScalars(reader, type, columns.timestamp_seconds);
    } else if (field == 4 && scalar) {
      ok = AppendScalars(reader, type, columns.timestamp_nanos);
    } else if (field == 5 && scalar) {
      ok = AppendScalars(reader, type, columns.counts);
    } else if (field == 7 && scalar) {
      ok = AppendScalars(reader, type, columns.revision_index);
    } else {
      ok = reader.Skip(field, type);
    }
    if (!ok) {
      error = reader.error().empty() ? absl::StrCat("field ", field, ": malformed packed values")
                                     : reader.error();
      return false;
    }
  }
  error.clear();
  return true;
}

// The packed events as RawEvents viewing the columns' strings. INVALID_ARGUMENT naming the
// column when one has the wrong length or an index out of range.
absl::Status Materialize(const PackedColumns& columns, std::vector<RawEvent>& events) {
  const size_t count = columns.model_index.size();
  auto check_length = [&](size_t size, absl::string_view column) -> absl::Status {
    if (size == 0 || size == count) return absl::OkStatus();
    return InvalidFieldError(
        absl::StrCat("packed.", column),
        absl::StrCat("has ", size, " entries for ", count, " events; give one per event or none"));
  };
  for (const auto& [size, column] :
       {std::pair{columns.timestamp_seconds.size(), "timestamp_seconds"},
        std::pair{columns.timestamp_nanos.size(), "timestamp_nanos"},
        std::pair{columns.counts.size(), "counts"},
        std::pair{columns.revision_index.size(), "revision_index"}}) {
    if (absl::Status status = check_length(size, column); !status.ok()) return status;
  }
  if (!columns.timestamp_nanos.empty() && columns.timestamp_seconds.empty()) {
    return InvalidFieldError("packed.timestamp_nanos", "needs timestamp_seconds");
  }
  for (size_t i = 0; i < count; ++i) {
    RawEvent& event = events.emplace_back();
    const uint32_t model = columns.model_index[i];
    if (model >= columns.model_ids.size()) {
      return InvalidFieldError(absl::StrCat("packed.model_index[", i, "]"),
                               absl::StrCat(model, " is not an index of model_ids (",
                                            columns.model_ids.size(), " ids)"));
    }
    event.model_id = columns.model_ids[model];
    if (!columns.timestamp_seconds.empty()) {
      event.timestamp_seconds = columns.timestamp_seconds[i];
      if (!columns.timestamp_nanos.empty()) event.timestamp_nanos = columns.timestamp_nanos[i];
    }
    if (!columns.counts.empty()) event.count = columns.counts[i];
    if (!columns.revision_index.empty()) {
      const uint32_t revision = columns.revision_index[i];
      if (revision >= columns.revisions.size()) {
        return InvalidFieldError(absl::StrCat("packed.revision_index[", i, "]"),
                                 absl::StrCat(revision, " is not an index of revisions (",
                                              columns.revisions.size(), " revisions)"));
      }
      event.revision = columns.revisions[revision];
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status DecodeIngestRequest(std::string bytes, size_t max_events, DecodedBatch& batch) {
  PackedColumns columns;
  if (absl::Status status = DecodeIngestWire(std::move(bytes), max_events, batch, columns);
      !status.ok()) {
    return status;
  }
  return Materialize(columns, batch.events);
}

absl::Status DecodeIngestWire(std::string bytes, size_t max_events, DecodedBatch& batch,
                              PackedColumns& columns) {
  batch = DecodedBatch();
  columns = PackedColumns();
  batch.bytes = std::move(bytes);
  const absl::string_view view(batch.bytes);

  // First pass: the shape of the message, and how many events it holds, before anything is
  // allocated for them.
  WireReader reader(view);
  size_t events = 0;
  std::string error;
  while (!reader.done()) {
    uint32_t field = 0;
    WireType type = kVarint;
    if (!reader.Tag(field, type)) break;
    if (field == 1 && type == kLengthDelimited) ++events;
    if (field == 4 && type == kLengthDelimited) {
      absl::string_view packed;
      if (!reader.LengthDelimited(packed)) break;
      if (!CountPacked(packed, events, error)) return Malformed("packed", error);
      continue;
    }
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
    } else if (field == 4 && type == kLengthDelimited) {
      absl::string_view packed;
      fields.LengthDelimited(packed);
      if (!DecodePacked(packed, columns, error)) return Malformed("packed", error);
    } else {
      fields.Skip(field, type);
    }
  }
  return absl::OkStatus();
}

}  // namespace hubstats
