#include "core/model_id.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/field_error.h"

namespace hubstats {
namespace {

constexpr size_t kMaxPartLength = 96;

bool IsIdCharacter(char c) { return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-'; }

std::string Printable(char c) {
  return absl::ascii_isprint(c) ? absl::StrCat("'", std::string(1, c), "'")
                                : absl::StrFormat("byte 0x%02x", static_cast<unsigned char>(c));
}

absl::Status ValidatePart(absl::string_view part, absl::string_view what, absl::string_view field) {
  if (part.empty() || part.size() > kMaxPartLength) {
    return InvalidFieldError(field,
                             absl::StrCat(what, " must be 1-96 characters, got ", part.size()));
  }
  // One pass (this runs for every event ingested): allowed characters, and no "--" or "..".
  bool doubled = false;
  char previous = '\0';
  for (char c : part) {
    if (!IsIdCharacter(c)) {
      return InvalidFieldError(field, absl::StrCat(what, " contains ", Printable(c),
                                                   "; allowed are letters, digits, '.', '_', '-'"));
    }
    doubled |= c == previous && (c == '-' || c == '.');
    previous = c;
  }
  const char first = part.front(), last = part.back();
  if (first == '-' || first == '.' || last == '-' || last == '.') {
    return InvalidFieldError(field, absl::StrCat(what, " must not start or end with '-' or '.'"));
  }
  if (doubled) {
    return InvalidFieldError(field, absl::StrCat(what, " must not contain '--' or '..'"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateModelId(absl::string_view model_id, absl::string_view field) {
  if (model_id.empty()) return InvalidFieldError(field, "is required");
  const size_t slash = model_id.find('/');
  if (slash == absl::string_view::npos) return ValidatePart(model_id, "name", field);
  if (model_id.find('/', slash + 1) != absl::string_view::npos) {
    return InvalidFieldError(field, "must be 'owner/name' or 'name' (more than one '/')");
  }
  if (absl::Status owner = ValidatePart(model_id.substr(0, slash), "owner", field); !owner.ok()) {
    return owner;
  }
  return ValidatePart(model_id.substr(slash + 1), "name", field);
}

absl::string_view AuthorOf(absl::string_view model_id) {
  const size_t slash = model_id.find('/');
  return slash == absl::string_view::npos ? kCanonicalAuthor : model_id.substr(0, slash);
}

}  // namespace hubstats
