// Download events: validation of what ingestion jobs send.
#ifndef HUBSTATS_SERVICE_CORE_EVENT_H_
#define HUBSTATS_SERVICE_CORE_EVENT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/day.h"

namespace hubstats {

inline constexpr int64_t kMaxEventCount = 1'000'000'000;
// Counters are kept exactly up to 2^53 - 1 (the largest integer a Redis sorted-set score, a
// double, holds exactly). Events that would push an author's all-time total past it are
// rejected; see docs/DESIGN.md.
inline constexpr int64_t kMaxCounterValue = (int64_t{1} << 53) - 1;

// An event as received. Views must outlive the validation call.
struct RawEvent {
  absl::string_view model_id;
  // Seconds and nanoseconds since the Unix epoch; nullopt = "when received".
  std::optional<int64_t> timestamp_seconds;
  int32_t timestamp_nanos = 0;
  std::optional<int64_t> count;  // nullopt = 1.
  absl::string_view revision;    // "" = none.
};

// A validated event. Views point into the RawEvent's storage.
struct ValidEvent {
  absl::string_view model_id;
  absl::string_view author;
  Day day;
  int64_t count = 1;
  absl::string_view revision;
  // Later than EventTimeLimits allow for its day, and counted into all time only
  // (LatePolicy::kAllTimeOnly): no day, no rolling window, no revision.
  bool all_time_only = false;
};

// The earliest accepted event time: 2015-01-01T00:00:00Z.
absl::Time EarliestEventTime();

// What happens to an event later than EventTimeLimits::max_lateness_days.
enum class LatePolicy {
  kReject,       // Refused (INVALID_ARGUMENT, field "timestamp").
  kAllTimeOnly,  // Counted into all time only: its day's counters are closed to it.
};

// How late an event may come: an event of a day more than `max_lateness_days` before the day
// (UTC) it is received on is late; nullopt accepts any day since 2015. Counted in days, not
// hours, because downloads are counted per day: with 7, an event received on 2024-09-20 may be
// of 2024-09-13 or later, whatever the hour. `late` says what happens to a late event.
struct EventTimeLimits {
  std::optional<int> max_lateness_days;
  LatePolicy late = LatePolicy::kReject;
};

// Validates one event received at `received`: model id rules, time in
// [2015-01-01, received + 24h] and no later than `limits` allow (or marked all_time_only, as
// `limits.late` says), count in 1..1e9, revision 1-255 printable ASCII without spaces.
// INVALID_ARGUMENT naming the field ("model_id", "timestamp", "count", "revision").
absl::StatusOr<ValidEvent> ValidateEvent(const RawEvent& event, absl::Time received,
                                         const EventTimeLimits& limits = {});

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_CORE_EVENT_H_
