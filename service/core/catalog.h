// Catalog records: what the hub says about a model.
#ifndef HUBSTATS_SERVICE_CORE_CATALOG_H_
#define HUBSTATS_SERVICE_CORE_CATALOG_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/modality.h"

namespace hubstats {

enum class Architecture : uint8_t { kUnspecified, kEncoder, kDecoder, kEncoderDecoder, kOther };

// "encoder", "decoder", "encoder-decoder", "other"; "" for kUnspecified.
absl::string_view ArchitectureName(Architecture architecture);
// The inverse of ArchitectureName (also accepts "encoder_decoder"); nullopt when unknown.
std::optional<Architecture> ArchitectureFromName(absl::string_view name);

// A model's catalog record. An upsert replaces the whole record.
struct CatalogRecord {
  std::string model_id;
  std::string pipeline_tag;          // "" = none.
  std::optional<Modality> modality;  // Explicit override; nullopt = derive from the tag.
  int64_t num_parameters = 0;        // 0 = unknown.
  Architecture architecture = Architecture::kUnspecified;
  std::string library_name;  // "" = none.

  bool operator==(const CatalogRecord&) const = default;
};

// OK, or INVALID_ARGUMENT naming the first bad field ("model_id", "pipeline_tag", "modality",
// "num_parameters", "library_name").
absl::Status ValidateRecord(const CatalogRecord& record);

// A compact, stable text form of a valid record (without the model id, which keys it).
std::string SerializeRecord(const CatalogRecord& record);
// The inverse of SerializeRecord; DATA_LOSS when `serialized` is not such a form.
absl::StatusOr<CatalogRecord> ParseRecord(absl::string_view model_id, absl::string_view serialized);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_CORE_CATALOG_H_
