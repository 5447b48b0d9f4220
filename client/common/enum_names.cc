#include "common/enum_names.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "core/catalog.h"

namespace hubstats::client {

static_assert(v1::MODALITY_NLP == 1 && v1::MODALITY_UNKNOWN == kModalityCount,
              "v1::Modality is core's Modality shifted by one");
static_assert(v1::ARCHITECTURE_UNSPECIFIED == static_cast<int>(Architecture::kUnspecified) &&
                  v1::ARCHITECTURE_OTHER == static_cast<int>(Architecture::kOther),
              "v1::Architecture and core's Architecture share values");

v1::Modality ModalityToProto(Modality modality) {
  return static_cast<v1::Modality>(static_cast<int>(modality) + 1);
}

std::optional<Modality> ModalityFromProto(v1::Modality modality) {
  if (modality == v1::MODALITY_UNSPECIFIED || !v1::Modality_IsValid(modality)) {
    return std::nullopt;
  }
  return static_cast<Modality>(static_cast<int>(modality) - 1);
}

std::string ModalityName(v1::Modality modality) {
  std::optional<Modality> core = ModalityFromProto(modality);
  return core ? std::string(hubstats::ModalityName(*core)) : std::string();
}

absl::StatusOr<v1::Modality> ParseModality(absl::string_view text) {
  std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  // Each run of '-' and whitespace becomes one '_', as in the Python client.
  std::string normalized;
  bool in_separator = false;
  for (char c : key) {
    const bool separator = c == '-' || absl::ascii_isspace(static_cast<unsigned char>(c));
    if (!separator) {
      normalized += c;
    } else if (!in_separator) {
      normalized += '_';
    }
    in_separator = separator;
  }
  absl::string_view name = normalized;
  absl::ConsumePrefix(&name, "modality_");
  if (std::optional<Modality> modality = ModalityFromName(name)) return ModalityToProto(*modality);
  return absl::InvalidArgumentError(
      absl::StrCat("'", text, "' is not a modality; expected one of ", ModalityChoices()));
}

std::string ModalityChoices() {
  std::vector<absl::string_view> names;
  for (Modality modality : AllModalities()) names.push_back(hubstats::ModalityName(modality));
  return absl::StrCat(absl::StrJoin(names, ", "), " (aliases: cv, rl)");
}

std::string ArchitectureName(v1::Architecture architecture) {
  return std::string(hubstats::ArchitectureName(static_cast<Architecture>(architecture)));
}

absl::StatusOr<v1::Architecture> ParseArchitecture(absl::string_view text) {
  const std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (key.empty() || key == "(none)") return v1::ARCHITECTURE_UNSPECIFIED;
  std::optional<Architecture> architecture = ArchitectureFromName(key);
  if (!architecture || *architecture == Architecture::kUnspecified) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not an architecture; expected one of encoder, decoder, ",
                     "encoder-decoder, other (or empty)"));
  }
  return static_cast<v1::Architecture>(*architecture);
}

}  // namespace hubstats::client
