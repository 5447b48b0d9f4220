#include "core/event.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/field_error.h"
#include "core/model_id.h"

namespace hubstats {
namespace {

constexpr size_t kMaxRevisionLength = 255;

std::string FormatUtc(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", time, absl::UTCTimeZone());
}

}  // namespace

absl::Time EarliestEventTime() { return absl::FromUnixSeconds(1420070400); }  // 2015-01-01Z

absl::StatusOr<ValidEvent> ValidateEvent(const RawEvent& event, absl::Time received,
                                         const EventTimeLimits& limits) {
  if (absl::Status id = ValidateModelId(event.model_id); !id.ok()) return id;
  ValidEvent valid;
  valid.model_id = event.model_id;
  valid.author = AuthorOf(event.model_id);

  absl::Time time = received;
  if (event.timestamp_seconds) {
    if (event.timestamp_nanos < 0 || event.timestamp_nanos > 999'999'999) {
      return InvalidFieldError(
          "timestamp", absl::StrCat("nanos must be 0..999999999, got ", event.timestamp_nanos));
    }
    time =
        absl::FromUnixSeconds(*event.timestamp_seconds) + absl::Nanoseconds(event.timestamp_nanos);
    if (time < EarliestEventTime()) {
      return InvalidFieldError("timestamp",
                               absl::StrCat(FormatUtc(time), " is before 2015-01-01T00:00:00Z"));
    }
    if (time > received + absl::Hours(24)) {
      return InvalidFieldError(
          "timestamp",
          absl::StrCat(FormatUtc(time), " is more than 24 hours after the server's clock (",
                       FormatUtc(received), ")"));
    }
  }
  valid.day = Day::FromTime(time);
  if (limits.max_lateness_days) {
    const Day today = Day::FromTime(received);
    const int late = today.number() - valid.day.number();
    if (late > *limits.max_lateness_days && limits.late == LatePolicy::kReject) {
      return InvalidFieldError(
          "timestamp",
          absl::StrCat(valid.day.ToString(), " is ", late, " days before the server's day (",
                       today.ToString(), "); this server counts events at most ",
                       *limits.max_lateness_days, " days late"));
    }
    valid.all_time_only = late > *limits.max_lateness_days;
  }

  if (event.count) {
    if (*event.count < 1 || *event.count > kMaxEventCount) {
      return InvalidFieldError(
          "count", absl::StrCat("must be between 1 and 1000000000, got ", *event.count));
    }
    valid.count = *event.count;
  }

  if (event.revision.size() > kMaxRevisionLength) {
    return InvalidFieldError(
        "revision", absl::StrCat("must be at most 255 characters, got ", event.revision.size()));
  }
  for (char c : event.revision) {
    if (!absl::ascii_isgraph(c)) {
      return InvalidFieldError("revision",
                               "must be printable ASCII without spaces or control characters");
    }
  }
  valid.revision = event.revision;
  return valid;
}

}  // namespace hubstats
