// UTC calendar days and inclusive day ranges.
#ifndef HUBSTATS_SERVICE_CORE_DAY_H_
#define HUBSTATS_SERVICE_CORE_DAY_H_

#include <compare>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace hubstats {

// A UTC calendar day. Value type; cheap to copy. Ordered by time.
class Day {
 public:
  Day() = default;  // 1970-01-01.

  // INVALID_ARGUMENT (field `field`) unless year/month/day form a real date in 1970..9999.
  static absl::StatusOr<Day> FromCivil(int64_t year, int64_t month, int64_t day,
                                       absl::string_view field = "date");
  // Parses "YYYY-MM-DD"; INVALID_ARGUMENT (field `field`) otherwise.
  static absl::StatusOr<Day> Parse(absl::string_view text, absl::string_view field = "date");
  // The UTC date of `time`.
  static Day FromTime(absl::Time time);
  // Days since 1970-01-01.
  static Day FromNumber(int32_t days_since_epoch) { return Day(days_since_epoch); }

  int32_t number() const { return days_since_epoch_; }
  absl::CivilDay civil() const;
  // "YYYY-MM-DD": the form used in store keys and output; sorts like the days themselves.
  std::string ToString() const;

  auto operator<=>(const Day&) const = default;

 private:
  explicit Day(int32_t days_since_epoch) : days_since_epoch_(days_since_epoch) {}
  int32_t days_since_epoch_ = 0;
};

// Inclusive range of days; an absent end is open. Both absent means all time.
struct DayRange {
  std::optional<Day> first;
  std::optional<Day> last;

  bool all_time() const { return !first && !last; }
  bool Contains(Day day) const { return (!first || *first <= day) && (!last || day <= *last); }
  // Whether a day of from..to (from <= to) is in the range.
  bool Overlaps(Day from, Day to) const {
    return (!first || *first <= to) && (!last || from <= *last);
  }
  // "all time", "2024-09-01..2024-09-30", "..2024-09-30", "2024-09-01..".
  std::string ToString() const;
};

// INVALID_ARGUMENT (field "<field>.end") when both ends are given and first > last.
absl::Status ValidateDayRange(const DayRange& range, absl::string_view field = "range");

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_CORE_DAY_H_
