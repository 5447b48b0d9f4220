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

std::optional<Day> ParseMonthText(absl::string_view text) {
  constexpr size_t kMonthLength = 7;  // YYYY-MM
  if (text.size() != kMonthLength) return std::nullopt;
  absl::StatusOr<Day> day = Day::Parse(absl::StrCat(text, "-01"));
  if (!day.ok()) return std::nullopt;
  return *day;
}

std::optional<ParsedRevisionField> ParseRevisionField(absl::string_view field) {
  constexpr size_t kDayLength = 10;   // YYYY-MM-DD
  constexpr size_t kMonthLength = 7;  // YYYY-MM
  if (field.size() > kMonthLength && field[kMonthLength] == '|') {
    std::optional<Day> month = ParseMonthText(field.substr(0, kMonthLength));
    if (!month) return std::nullopt;
    return ParsedRevisionField{*month, field.substr(kMonthLength + 1), /*whole_month=*/true};
  }
  if (field.size() < kDayLength + 1 || field[kDayLength] != '|') return std::nullopt;
  absl::StatusOr<Day> day = Day::Parse(field.substr(0, kDayLength));
  if (!day.ok()) return std::nullopt;
  return ParsedRevisionField{*day, field.substr(kDayLength + 1)};
}

}  // namespace hubstats::redis_keys
