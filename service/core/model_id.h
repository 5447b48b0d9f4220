// Hub repository ids: validation and the author they belong to.
#ifndef HUBSTATS_SERVICE_CORE_MODEL_ID_H_
#define HUBSTATS_SERVICE_CORE_MODEL_ID_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace hubstats {

// The author of bare (legacy canonical) model ids such as "gpt2". It cannot clash with a real
// owner because parentheses are not allowed in ids.
inline constexpr absl::string_view kCanonicalAuthor = "(canonical)";

// OK when `model_id` is "owner/name" or a bare "name" where each part is 1-96 characters of
// [A-Za-z0-9._-], does not start or end with '-' or '.', and has no "--" or "..".
// Otherwise INVALID_ARGUMENT naming `field` with the exact reason.
absl::Status ValidateModelId(absl::string_view model_id, absl::string_view field = "model_id");

// The part before '/', or kCanonicalAuthor for a bare name. `model_id` must be valid.
// The view points into `model_id` (or at static storage).
absl::string_view AuthorOf(absl::string_view model_id);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_CORE_MODEL_ID_H_
