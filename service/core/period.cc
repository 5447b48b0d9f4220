#include "core/period.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "core/field_error.h"

namespace hubstats {

absl::string_view GranularityName(Granularity granularity) {
  switch (granularity) {
    case Granularity::kDay:
      return "day";
    case Granularity::kWeek:
      return "week";
    case Granularity::kMonth:
      return "month";
  }
  return "month";
}

absl::StatusOr<Granularity> ParseGranularity(absl::string_view text, absl::string_view field) {
  for (Granularity granularity : {Granularity::kDay, Granularity::kWeek, Granularity::kMonth}) {
    if (text == GranularityName(granularity)) return granularity;
  }
  return InvalidFieldError(field,
                           absl::StrCat("'", text, "' is not a granularity (day, week, month)"));
}

Day PeriodStart(Day day, Granularity granularity) {
  switch (granularity) {
    case Granularity::kDay:
      return day;
    case Granularity::kWeek: {
      // 1970-01-01 was a Thursday: day number 4 (mod 7) is a Monday.
      const int32_t number = day.number();
      const int32_t since_monday = ((number - 4) % 7 + 7) % 7;
      return Day::FromNumber(number - since_monday);
    }
    case Granularity::kMonth: {
      const absl::CivilDay civil = day.civil();
      return Day::FromNumber(day.number() - (civil.day() - 1));
    }
  }
  return day;
}

Day PeriodEnd(Day day, Granularity granularity) {
  switch (granularity) {
    case Granularity::kDay:
      return day;
    case Granularity::kWeek:
      return Day::FromNumber(PeriodStart(day, granularity).number() + 6);
    case Granularity::kMonth: {
      const absl::CivilMonth next = absl::CivilMonth(day.civil()) + 1;
      return Day::FromNumber(day.number() +
                             static_cast<int32_t>(absl::CivilDay(next) - day.civil()) - 1);
    }
  }
  return day;
}

Day RetentionBoundary(Day today, int days) {
  return PeriodStart(Day::FromNumber(today.number() - (days - 1)), Granularity::kMonth);
}

IsoWeek IsoWeekOf(Day day) {
  // The ISO year is the year of the week's Thursday; week 1 holds that year's first Thursday.
  const Day thursday = Day::FromNumber(PeriodStart(day, Granularity::kWeek).number() + 3);
  const absl::CivilDay civil = thursday.civil();
  const int day_of_year = static_cast<int>(civil - absl::CivilDay(civil.year(), 1, 1));
  return {static_cast<int>(civil.year()), day_of_year / 7 + 1};
}

std::vector<Period> PeriodsOf(Day first, Day last, Granularity granularity) {
  std::vector<Period> periods;
  for (Day start = PeriodStart(first, granularity); start <= last;) {
    const Day end = PeriodEnd(start, granularity);
    periods.push_back({start, std::max(start, first), std::min(end, last)});
    start = Day::FromNumber(end.number() + 1);
  }
  return periods;
}

int64_t PeriodCount(Day first, Day last, Granularity granularity) {
  if (first > last) return 0;
  const Day a = PeriodStart(first, granularity), b = PeriodStart(last, granularity);
  switch (granularity) {
    case Granularity::kDay:
      return b.number() - a.number() + 1;
    case Granularity::kWeek:
      return (b.number() - a.number()) / 7 + 1;
    case Granularity::kMonth:
      return absl::CivilMonth(b.civil()) - absl::CivilMonth(a.civil()) + 1;
  }
  return 0;
}

}  // namespace hubstats
