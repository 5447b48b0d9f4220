// The API's enums as the client tools print and accept them, and the one conversion between
// v1::Modality and core's Modality on the client side.
//
// Users may write a modality as its name ("nlp", "computer_vision", ..., "unknown") or an alias
// ("cv", "rl"), in any letter case, with '-' or ' ' for '_', optionally prefixed "modality_":
// "Computer-Vision", "MODALITY_NLP" and "cv" all work. The Python client accepts exactly the
// same (tests/input_rules holds the cases both run).
//
// Pure functions; safe from any thread.
#ifndef HUBSTATS_CLIENT_COMMON_ENUM_NAMES_H_
#define HUBSTATS_CLIENT_COMMON_ENUM_NAMES_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/modality.h"
#include "hubstats/v1/hubstats.pb.h"

namespace hubstats::client {

// v1::Modality lists core's values with UNSPECIFIED = 0 in front.
v1::Modality ModalityToProto(Modality modality);
// nullopt for MODALITY_UNSPECIFIED and for numbers outside the enum.
std::optional<Modality> ModalityFromProto(v1::Modality modality);

// "nlp", "computer_vision", ..., "unknown"; "" for MODALITY_UNSPECIFIED.
std::string ModalityName(v1::Modality modality);
// A modality as users write it (see the top of this file). INVALID_ARGUMENT, without a field,
// "'<text>' is not a modality; expected one of <ModalityChoices()>" otherwise.
absl::StatusOr<v1::Modality> ParseModality(absl::string_view text);
// "nlp, computer_vision, ..., unknown (aliases: cv, rl)": for help texts and errors.
std::string ModalityChoices();

// "encoder", "decoder", "encoder-decoder", "other"; "" for ARCHITECTURE_UNSPECIFIED.
std::string ArchitectureName(v1::Architecture architecture);
// Those names in any letter case, also "encoder_decoder"; "" and "(none)" (how breakdowns
// name it) give ARCHITECTURE_UNSPECIFIED. INVALID_ARGUMENT, without a field, otherwise.
absl::StatusOr<v1::Architecture> ParseArchitecture(absl::string_view text);

}  // namespace hubstats::client

#endif  // HUBSTATS_CLIENT_COMMON_ENUM_NAMES_H_
