#include "store/redis_keys.h"

#include "absl/strings/numbers.h"

namespace hubstats::redis_keys {

std::optional<ParsedModelValue> ParseModelValue(absl::string_view value) {
  ParsedModelValue parsed;
  const size_t tab = value.find('\t');
  if (!absl::SimpleAtoi(value.substr(0, tab), &parsed.index) || value.empty() || value[0] == '+' ||
      value[0] == '-') {
    return std::nullopt;
  }
  if (tab != absl::string_view::npos) parsed.serialized_record = value.substr(tab + 1);
  return parsed;
}

int64_t DenseAt(absl::string_view array, uint32_t index) {
  const size_t offset = static_cast<size_t>(index) * kDenseBytes;
  if (offset + kDenseBytes > array.size()) return 0;
  uint64_t value = 0;
  for (size_t i = 0; i < kDenseBytes; ++i) {
    value = (value << 8) | static_cast<uint8_t>(array[offset + i]);
  }
  return static_cast<int64_t>(value);
}

std::optional<ParsedRevisionField> ParseRevisionField(absl::string_view field) {
  constexpr size_t kDayLength = 10;  // YYYY-MM-DD
  if (field.size() < kDayLength + 1 || field[kDayLength] != '|') return std::nullopt;
  absl::StatusOr<Day> day = Day::Parse(field.substr(0, kDayLength));
  if (!day.ok()) return std::nullopt;
  return ParsedRevisionField{*day, field.substr(kDayLength + 1)};
}

}  // namespace hubstats::redis_keys
