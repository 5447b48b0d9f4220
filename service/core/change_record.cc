#include "core/change_record.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/period.h"

namespace hubstats {
namespace {

constexpr char kFormat = 1;
constexpr char kFormatWithAllTimeOnly = 2;  // Format 1, then the all_time_only downloads.
constexpr char kFormatWithFolds = 3;        // Format 2, then the folded months.

void PutVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

uint64_t ZigZag(int64_t value) {
  return (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
}
int64_t UnZigZag(uint64_t value) {
  return static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1);
}

void PutString(std::string& out, absl::string_view text) {
  PutVarint(out, text.size());
  out.append(text.data(), text.size());
}

class Reader {
 public:
  explicit Reader(absl::string_view bytes) : bytes_(bytes) {}
  bool Varint(uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (position_ == bytes_.size()) return false;
      const auto byte = static_cast<uint8_t>(bytes_[position_++]);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }
  bool Index(uint32_t& value) {
    uint64_t wide = 0;
    if (!Varint(wide) || wide > UINT32_MAX) return false;
    value = static_cast<uint32_t>(wide);
    return true;
  }
  bool String(absl::string_view& text) {
    uint64_t length = 0;
    if (!Varint(length) || length > bytes_.size() - position_) return false;
    text = bytes_.substr(position_, length);
    position_ += length;
    return true;
  }
  bool Byte(char& value) {
    if (position_ == bytes_.size()) return false;
    value = bytes_[position_++];
    return true;
  }
  bool done() const { return position_ == bytes_.size(); }

 private:
  absl::string_view bytes_;
  size_t position_ = 0;
};

}  // namespace

std::string EncodeChangeRecord(const ChangeRecord& record) {
  std::string out;
  out.reserve(16 + record.downloads.size() * 8);
  const char format = !record.folded_months.empty()   ? kFormatWithFolds
                      : !record.all_time_only.empty() ? kFormatWithAllTimeOnly
                                                      : kFormat;
  out.push_back(format);
  PutVarint(out, record.indexed.size());
  for (const ModelIndexed& model : record.indexed) {
    PutVarint(out, model.index);
    PutString(out, model.model_id);
  }
  PutVarint(out, record.records.size());
  for (const RecordWritten& written : record.records) {
    PutVarint(out, written.index);
    PutString(out, written.record.model_id);
    PutString(out, SerializeRecord(written.record));
  }
  // Downloads sorted by model and day, each coded as the difference to the one before: most
  // differences fit in a byte.
  std::vector<DownloadsAdded> downloads = record.downloads;
  std::sort(downloads.begin(), downloads.end(), [](const auto& a, const auto& b) {
    return std::pair(a.index, a.day) < std::pair(b.index, b.day);
  });
  PutVarint(out, downloads.size());
  uint32_t index = 0;
  int64_t day = 0;
  for (const DownloadsAdded& added : downloads) {
    PutVarint(out, added.index - index);
    if (added.index != index) day = 0;
    PutVarint(out, ZigZag(added.day.number() - day));
    PutVarint(out, ZigZag(added.downloads));
    index = added.index;
    day = added.day.number();
  }
  if (format == kFormat) return out;
  std::vector<AllTimeAdded> late = record.all_time_only;
  std::sort(late.begin(), late.end(),
            [](const auto& a, const auto& b) { return a.index < b.index; });
  PutVarint(out, late.size());
  index = 0;
  for (const AllTimeAdded& added : late) {
    PutVarint(out, added.index - index);
    PutVarint(out, ZigZag(added.downloads));
    index = added.index;
  }
  if (format == kFormatWithAllTimeOnly) return out;
  PutVarint(out, record.folded_months.size());
  for (Day month : record.folded_months) PutVarint(out, static_cast<uint64_t>(month.number()));
  return out;
}

absl::StatusOr<ChangeRecord> DecodeChangeRecord(absl::string_view bytes) {
  auto corrupt = [](absl::string_view what) {
    return absl::DataLossError(absl::StrCat("change record is corrupt: ", what));
  };
  Reader reader(bytes);
  char format = 0;
  if (!reader.Byte(format) ||
      (format != kFormat && format != kFormatWithAllTimeOnly && format != kFormatWithFolds)) {
    return corrupt("unknown format");
  }
  ChangeRecord record;
  uint64_t count = 0;
  if (!reader.Varint(count) || count > bytes.size()) return corrupt("model count");
  record.indexed.resize(count);
  for (ModelIndexed& model : record.indexed) {
    absl::string_view id;
    if (!reader.Index(model.index) || !reader.String(id)) return corrupt("model");
    model.model_id = std::string(id);
  }
  if (!reader.Varint(count) || count > bytes.size()) return corrupt("record count");
  record.records.resize(count);
  for (RecordWritten& written : record.records) {
    absl::string_view id, serialized;
    if (!reader.Index(written.index) || !reader.String(id) || !reader.String(serialized)) {
      return corrupt("record");
    }
    absl::StatusOr<CatalogRecord> parsed = ParseRecord(id, serialized);
    if (!parsed.ok()) return corrupt(parsed.status().message());
    written.record = *std::move(parsed);
  }
  if (!reader.Varint(count) || count > bytes.size()) return corrupt("download count");
  record.downloads.resize(count);
  uint64_t index = 0;
  int64_t day = 0;
  for (DownloadsAdded& added : record.downloads) {
    uint64_t index_step = 0, day_step = 0, downloads = 0;
    if (!reader.Varint(index_step) || !reader.Varint(day_step) || !reader.Varint(downloads)) {
      return corrupt("downloads");
    }
    if (index_step != 0) day = 0;
    index += index_step;
    day += UnZigZag(day_step);
    if (index > UINT32_MAX || day < 0 || day > INT32_MAX) return corrupt("downloads range");
    added.index = static_cast<uint32_t>(index);
    added.day = Day::FromNumber(static_cast<int32_t>(day));
    added.downloads = UnZigZag(downloads);
  }
  if (format >= kFormatWithAllTimeOnly) {
    if (!reader.Varint(count) || count > bytes.size()) return corrupt("all-time count");
    record.all_time_only.resize(count);
    index = 0;
    for (AllTimeAdded& added : record.all_time_only) {
      uint64_t index_step = 0, downloads = 0;
      if (!reader.Varint(index_step) || !reader.Varint(downloads)) return corrupt("all time");
      index += index_step;
      if (index > UINT32_MAX) return corrupt("all-time range");
      added.index = static_cast<uint32_t>(index);
      added.downloads = UnZigZag(downloads);
    }
  }
  if (format == kFormatWithFolds) {
    if (!reader.Varint(count) || count > bytes.size()) return corrupt("folded month count");
    record.folded_months.resize(count);
    for (Day& month : record.folded_months) {
      uint64_t number = 0;
      if (!reader.Varint(number) || number > INT32_MAX) return corrupt("folded month");
      month = Day::FromNumber(static_cast<int32_t>(number));
      if (PeriodStart(month, Granularity::kMonth) != month) return corrupt("folded month start");
    }
  }
  if (!reader.done()) return corrupt("trailing bytes");
  return record;
}

}  // namespace hubstats
