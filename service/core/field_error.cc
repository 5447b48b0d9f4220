#include "core/field_error.h"

#include <optional>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hubstats {
namespace {

constexpr absl::string_view kFieldPayload = "type.hubstats.dev/field";

}  // namespace

absl::Status InvalidFieldError(absl::string_view field, absl::string_view reason) {
  return FieldError(absl::StatusCode::kInvalidArgument, field, reason);
}

absl::Status FieldError(absl::StatusCode code, absl::string_view field, absl::string_view reason) {
  absl::Status status(code, absl::StrCat(field, ": ", reason));
  status.SetPayload(kFieldPayload, absl::Cord(field));
  return status;
}

std::string FieldOf(const absl::Status& status) {
  absl::optional<absl::Cord> field = status.GetPayload(kFieldPayload);
  return field ? std::string(*field) : std::string();
}

std::string ReasonOf(const absl::Status& status) {
  const std::string field = FieldOf(status);
  absl::string_view message = status.message();
  const std::string prefix = absl::StrCat(field, ": ");
  if (!field.empty() && absl::StartsWith(message, prefix)) message.remove_prefix(prefix.size());
  return std::string(message);
}

absl::Status PrefixField(const absl::Status& status, absl::string_view prefix) {
  const std::string field = FieldOf(status);
  if (field.empty()) return status;
  return FieldError(status.code(), absl::StrCat(prefix, ".", field), ReasonOf(status));
}

}  // namespace hubstats
