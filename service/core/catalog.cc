#include "core/catalog.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/field_error.h"
#include "core/model_id.h"
#include "core/size_class.h"

namespace hubstats {
namespace {

constexpr size_t kMaxLabelLength = 64;

absl::Status ValidateLabel(absl::string_view value, absl::string_view field, bool allow_upper,
                           bool allow_dot_underscore) {
  if (value.size() > kMaxLabelLength) {
    return InvalidFieldError(field,
                             absl::StrCat("must be at most 64 characters, got ", value.size()));
  }
  for (char c : value) {
    const bool ok = absl::ascii_isdigit(c) || absl::ascii_islower(c) || c == '-' ||
                    (allow_upper && absl::ascii_isupper(c)) ||
                    (allow_dot_underscore && (c == '.' || c == '_'));
    if (!ok) {
      return InvalidFieldError(
          field, absl::StrCat("contains '", absl::CHexEscape(absl::string_view(&c, 1)),
                              "'; allowed are ", allow_upper ? "letters" : "lowercase letters",
                              ", digits", allow_dot_underscore ? ", '.', '_'" : "", " and '-'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view ArchitectureName(Architecture architecture) {
  switch (architecture) {
    case Architecture::kEncoder:
      return "encoder";
    case Architecture::kDecoder:
      return "decoder";
    case Architecture::kEncoderDecoder:
      return "encoder-decoder";
    case Architecture::kOther:
      return "other";
    case Architecture::kUnspecified:
      break;
  }
  return "";
}

std::optional<Architecture> ArchitectureFromName(absl::string_view name) {
  for (Architecture architecture : {Architecture::kEncoder, Architecture::kDecoder,
                                    Architecture::kEncoderDecoder, Architecture::kOther}) {
    if (ArchitectureName(architecture) == name) return architecture;
  }
  if (name == "encoder_decoder") return Architecture::kEncoderDecoder;
  return std::nullopt;
}

absl::Status ValidateRecord(const CatalogRecord& record) {
  if (absl::Status id = ValidateModelId(record.model_id); !id.ok()) return id;
  if (absl::Status tag = ValidateLabel(record.pipeline_tag, "pipeline_tag", false, false);
      !tag.ok()) {
    return tag;
  }
  // Callers convert from the API's enum and never pass other values; the check keeps a bad
  // cast from indexing past the names (found by the `validation` fuzz target).
  if (record.modality && static_cast<int>(*record.modality) >= kModalityCount) {
    return InvalidFieldError("modality", absl::StrCat("is not a modality (value ",
                                                      static_cast<int>(*record.modality), ")"));
  }
  if (record.modality == Modality::kUnknown) {
    return InvalidFieldError("modality",
                             "'unknown' is reserved for models without a catalog record; leave it "
                             "unset to derive the modality from pipeline_tag");
  }
  if (record.num_parameters < 0 || record.num_parameters > kMaxParameters) {
    return InvalidFieldError(
        "num_parameters",
        absl::StrCat("must be between 0 (unknown) and 10^15, got ", record.num_parameters));
  }
  return ValidateLabel(record.library_name, "library_name", true, true);
}

std::string SerializeRecord(const CatalogRecord& record) {
  // Tab-separated: tag, modality ("" = derived), parameters, architecture, library. None of
  // the fields may contain a tab (see ValidateRecord).
  return absl::StrJoin(
      {absl::string_view(record.pipeline_tag),
       record.modality ? ModalityName(*record.modality) : absl::string_view(""),
       absl::string_view(absl::StrCat(record.num_parameters)),
       ArchitectureName(record.architecture), absl::string_view(record.library_name)},
      "\t");
}

absl::StatusOr<CatalogRecord> ParseRecord(absl::string_view model_id,
                                          absl::string_view serialized) {
  const std::vector<absl::string_view> parts = absl::StrSplit(serialized, '\t');
  auto corrupt = [&] {
    return absl::DataLossError(
        absl::StrCat("stored catalog record of '", model_id, "' is corrupt: '", serialized, "'"));
  };
  if (parts.size() != 5) return corrupt();
  CatalogRecord record;
  record.model_id = std::string(model_id);
  record.pipeline_tag = std::string(parts[0]);
  if (!parts[1].empty()) {
    record.modality = ModalityFromName(parts[1]);
    if (!record.modality) return corrupt();
  }
  if (!absl::SimpleAtoi(parts[2], &record.num_parameters)) return corrupt();
  if (!parts[3].empty()) {
    std::optional<Architecture> architecture = ArchitectureFromName(parts[3]);
    if (!architecture) return corrupt();
    record.architecture = *architecture;
  }
  record.library_name = std::string(parts[4]);
  return record;
}

}  // namespace hubstats
