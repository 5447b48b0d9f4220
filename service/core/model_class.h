// How a model's downloads are counted: its class, and the aggregate counters it feeds.
//
// Every download of a model adds its count to exactly four aggregate counters, one per
// dimension, each qualified by the model's modality:
//   "s|<modality>|<fine size bucket or u>"   size (and, summed, modality and totals)
//   "t|<modality>|<pipeline tag>"            task breakdown
//   "a|<modality>|<architecture>"            architecture breakdown
//   "l|<modality>|<library>"                 library breakdown
// A catalog upsert that changes the class moves the model's downloads from the old four
// counters to the new four. These names are the store's hash fields.
#ifndef HUBSTATS_SERVICE_CORE_MODEL_CLASS_H_
#define HUBSTATS_SERVICE_CORE_MODEL_CLASS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/catalog.h"
#include "core/modality.h"

namespace hubstats {

// Breakdown key for a catalogued model whose record leaves the field empty.
inline constexpr absl::string_view kNoneKey = "(none)";
// Breakdown key for models without a catalog record.
inline constexpr absl::string_view kUnknownKey = "unknown";

enum class AggregateKind : char {
  kSize = 's',
  kTask = 't',
  kArchitecture = 'a',
  kLibrary = 'l',
};

struct ModelClass {
  Modality modality = Modality::kUnknown;
  std::optional<int> size_bucket;  // Fine bucket; nullopt = unknown size.
  std::string task;                // Breakdown keys (see kNoneKey, kUnknownKey).
  std::string architecture;
  std::string library;

  // The class of a model without a catalog record.
  static ModelClass Unknown();

  // The four aggregate counter names, in the order size, task, architecture, library.
  std::array<std::string, 4> AggregateFields() const;

  // "<modality>\n<field>\n<field>\n<field>\n<field>": what the store keeps per model and what
  // its scripts read (they need nothing else from the class).
  std::string Encode() const;
  // The inverse of Encode; DATA_LOSS on malformed input.
  static absl::StatusOr<ModelClass> Decode(absl::string_view encoded);

  bool operator==(const ModelClass&) const = default;
};

// The class of a valid record under `table`.
ModelClass Classify(const CatalogRecord& record, const TaskTable& table);

// Aggregate counter name -> downloads.
using AggregateCounts = absl::flat_hash_map<std::string, int64_t>;

std::string AggregateField(AggregateKind kind, Modality modality, absl::string_view value);

struct ParsedAggregateField {
  AggregateKind kind;
  Modality modality;
  absl::string_view value;  // Points into the parsed name.
};
// nullopt for names not made by AggregateField.
std::optional<ParsedAggregateField> ParseAggregateField(absl::string_view name);

// The size value of a fine bucket ("0".."19") or of unknown size ("u").
std::string SizeValue(std::optional<int> bucket);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_CORE_MODEL_CLASS_H_
