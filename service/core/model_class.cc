#include "core/model_class.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/size_class.h"

namespace hubstats {

ModelClass ModelClass::Unknown() {
  ModelClass unknown;
  unknown.modality = Modality::kUnknown;
  unknown.task = unknown.architecture = unknown.library = std::string(kUnknownKey);
  return unknown;
}

std::array<std::string, 4> ModelClass::AggregateFields() const {
  return {AggregateField(AggregateKind::kSize, modality, SizeValue(size_bucket)),
          AggregateField(AggregateKind::kTask, modality, task),
          AggregateField(AggregateKind::kArchitecture, modality, architecture),
          AggregateField(AggregateKind::kLibrary, modality, library)};
}

std::string ModelClass::Encode() const {
  const std::array<std::string, 4> fields = AggregateFields();
  return absl::StrCat(ModalityName(modality), "\n", fields[0], "\n", fields[1], "\n", fields[2],
                      "\n", fields[3]);
}

absl::StatusOr<ModelClass> ModelClass::Decode(absl::string_view encoded) {
  const std::vector<absl::string_view> lines = absl::StrSplit(encoded, '\n');
  auto corrupt = [&] {
    return absl::DataLossError(absl::StrCat("stored model class is corrupt: '", encoded, "'"));
  };
  if (lines.size() != 5) return corrupt();
  std::optional<Modality> modality = ModalityFromName(lines[0]);
  if (!modality) return corrupt();
  ModelClass decoded;
  decoded.modality = *modality;
  const AggregateKind kinds[] = {AggregateKind::kSize, AggregateKind::kTask,
                                 AggregateKind::kArchitecture, AggregateKind::kLibrary};
  for (int i = 0; i < 4; ++i) {
    std::optional<ParsedAggregateField> field = ParseAggregateField(lines[i + 1]);
    if (!field || field->kind != kinds[i] || field->modality != *modality) return corrupt();
    switch (field->kind) {
      case AggregateKind::kSize:
        if (field->value != "u") {
          int bucket = 0;
          if (!absl::SimpleAtoi(field->value, &bucket) || bucket < 0 ||
              bucket >= kFineBucketCount) {
            return corrupt();
          }
          decoded.size_bucket = bucket;
        }
        break;
      case AggregateKind::kTask:
        decoded.task = std::string(field->value);
        break;
      case AggregateKind::kArchitecture:
        decoded.architecture = std::string(field->value);
        break;
      case AggregateKind::kLibrary:
        decoded.library = std::string(field->value);
        break;
    }
  }
  return decoded;
}

ModelClass Classify(const CatalogRecord& record, const TaskTable& table) {
  ModelClass result;
  result.modality = record.modality ? *record.modality : table.Lookup(record.pipeline_tag);
  if (record.num_parameters > 0) result.size_bucket = FineBucketOf(record.num_parameters);
  auto key = [](absl::string_view value) {
    return value.empty() ? std::string(kNoneKey) : std::string(value);
  };
  result.task = key(record.pipeline_tag);
  result.architecture = key(ArchitectureName(record.architecture));
  result.library = key(record.library_name);
  return result;
}

std::string AggregateField(AggregateKind kind, Modality modality, absl::string_view value) {
  return absl::StrCat(std::string(1, static_cast<char>(kind)), "|", ModalityName(modality), "|",
                      value);
}

std::optional<ParsedAggregateField> ParseAggregateField(absl::string_view name) {
  if (name.size() < 4 || name[1] != '|') return std::nullopt;
  const size_t second = name.find('|', 2);
  if (second == absl::string_view::npos) return std::nullopt;
  ParsedAggregateField parsed;
  switch (name[0]) {
    case 's':
    case 't':
    case 'a':
    case 'l':
      parsed.kind = static_cast<AggregateKind>(name[0]);
      break;
    default:
      return std::nullopt;
  }
  std::optional<Modality> modality = ModalityFromName(name.substr(2, second - 2));
  if (!modality) return std::nullopt;
  parsed.modality = *modality;
  parsed.value = name.substr(second + 1);
  return parsed;
}

std::string SizeValue(std::optional<int> bucket) {
  return bucket ? absl::StrCat(*bucket) : std::string("u");
}

}  // namespace hubstats
