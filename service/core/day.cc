#include "core/day.h"

#include <algorithm>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/field_error.h"

namespace hubstats {
namespace {

const absl::CivilDay kEpoch(1970, 1, 1);

}  // namespace

absl::StatusOr<Day> Day::FromCivil(int64_t year, int64_t month, int64_t day,
                                   absl::string_view field) {
  // CivilDay normalises out-of-range fields (month 13 becomes January), so a date is real
  // exactly when normalising leaves it unchanged.
  const absl::CivilDay civil(year, month, day);
  if (year < 1970 || year > 9999 || civil.year() != year || civil.month() != month ||
      civil.day() != day) {
    return InvalidFieldError(
        field,
        absl::StrFormat("%04d-%02d-%02d is not a valid date (1970..9999)", year, month, day));
  }
  return Day(static_cast<int32_t>(civil - kEpoch));
}

absl::StatusOr<Day> Day::Parse(absl::string_view text, absl::string_view field) {
  int64_t year = 0, month = 0, day = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' ||
      !absl::SimpleAtoi(text.substr(0, 4), &year) || !absl::SimpleAtoi(text.substr(5, 2), &month) ||
      !absl::SimpleAtoi(text.substr(8, 2), &day)) {
    return InvalidFieldError(field,
                             absl::StrCat("'", text, "' is not a date of the form YYYY-MM-DD"));
  }
  return FromCivil(year, month, day, field);
}

Day Day::FromTime(absl::Time time) {
  // Unix time has no leap seconds: a UTC day is 86,400 of its seconds (and this runs for every
  // event ingested, where a civil-time conversion would cost more than the rest).
  const int64_t seconds = absl::ToUnixSeconds(time);  // Rounds down.
  int64_t days = seconds / 86'400;
  if (seconds % 86'400 < 0) --days;
  days = std::clamp<int64_t>(days, std::numeric_limits<int32_t>::min(),
                             std::numeric_limits<int32_t>::max());
  return Day(static_cast<int32_t>(days));
}

absl::CivilDay Day::civil() const { return kEpoch + days_since_epoch_; }

std::string Day::ToString() const {
  const absl::CivilDay day = civil();
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

std::string DayRange::ToString() const {
  if (all_time()) return "all time";
  return absl::StrCat(first ? first->ToString() : "", "..", last ? last->ToString() : "");
}

absl::Status ValidateDayRange(const DayRange& range, absl::string_view field) {
  if (range.first && range.last && *range.first > *range.last) {
    return InvalidFieldError(
        absl::StrCat(field, ".end"),
        absl::StrCat(range.last->ToString(), " is before the start ", range.first->ToString()));
  }
  return absl::OkStatus();
}

}  // namespace hubstats
