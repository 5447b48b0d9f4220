// Field-level errors: an absl::Status that names the offending request field.
//
// The core reports bad input as INVALID_ARGUMENT with the field path attached as a payload, so
// the gRPC edge can put it in a BadRequest detail and batch APIs can list it per item, without
// the core knowing either.
#ifndef HUBSTATS_SERVICE_CORE_FIELD_ERROR_H_
#define HUBSTATS_SERVICE_CORE_FIELD_ERROR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace hubstats {

// INVALID_ARGUMENT with message "<field>: <reason>" and the field path as payload.
absl::Status InvalidFieldError(absl::string_view field, absl::string_view reason);
// The same with another code (e.g. FAILED_PRECONDITION for a field that is well-formed but
// conflicts with stored state).
absl::Status FieldError(absl::StatusCode code, absl::string_view field, absl::string_view reason);

// The field path of an error made by InvalidFieldError, or "" for any other status.
std::string FieldOf(const absl::Status& status);

// The reason given to InvalidFieldError (the message without the "<field>: " prefix), or the
// whole message for any other status.
std::string ReasonOf(const absl::Status& status);

// The same error, with `prefix` put in front of its field path ("range" + "start" ->
// "range.start"). Other statuses pass through unchanged.
absl::Status PrefixField(const absl::Status& status, absl::string_view prefix);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_CORE_FIELD_ERROR_H_
