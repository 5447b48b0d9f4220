// Calendar periods of UTC days (day, ISO 8601 week, month), as trends cut ranges into them.
//
// Pure functions over Day; thread-safe.
#ifndef HUBSTATS_SERVICE_CORE_PERIOD_H_
#define HUBSTATS_SERVICE_CORE_PERIOD_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/day.h"

namespace hubstats {

enum class Granularity { kDay, kWeek, kMonth };

// "day", "week", "month".
absl::string_view GranularityName(Granularity granularity);
// Parses a name as GranularityName gives it; INVALID_ARGUMENT (field `field`) naming the
// accepted names otherwise.
absl::StatusOr<Granularity> ParseGranularity(absl::string_view text,
                                             absl::string_view field = "granularity");

// The first day of the period holding `day`: the day itself, the Monday of its ISO week, or the
// first of its month.
Day PeriodStart(Day day, Granularity granularity);
// The last day of the period holding `day`.
Day PeriodEnd(Day day, Granularity granularity);

// Retention: the first day kept per day on `today` when `days` days are kept (>= 1): the first
// of the month holding today - (days - 1). Whole months before it are folded into monthly
// totals (app/retention.h).
Day RetentionBoundary(Day today, int days);

// The ISO 8601 week-numbering year and week (1..53) of `day` (2021-01-03 is in 2020-W53).
struct IsoWeek {
  int year = 0;
  int week = 0;
};
IsoWeek IsoWeekOf(Day day);

// One period of a range: its calendar start, and the days of it inside the range.
struct Period {
  Day start;
  Day first;  // max(start, range's first day)
  Day last;   // min(period's end, range's last day)
  bool operator==(const Period&) const = default;
};

// The periods covering first..last (first <= last), oldest first.
std::vector<Period> PeriodsOf(Day first, Day last, Granularity granularity);
// How many periods PeriodsOf(first, last, granularity) holds, without making them.
int64_t PeriodCount(Day first, Day last, Granularity granularity);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_CORE_PERIOD_H_
