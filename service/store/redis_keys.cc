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

std::optional<ParsedRevisionField> ParseRevisionField(absl::string_view field) {
  constexpr size_t kDayLength = 10;  // YYYY-MM-DD
  if (field.size() < kDayLength + 1 || field[kDayLength] != '|') return std::nullopt;
  absl::StatusOr<Day> day = Day::Parse(field.substr(0, kDayLength));
  if (!day.ok()) return std::nullopt;
  return ParsedRevisionField{*day, field.substr(kDayLength + 1)};
}

}  // namespace hubstats::redis_keys
