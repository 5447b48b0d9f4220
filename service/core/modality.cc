#include "core/modality.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace hubstats {
namespace embedded {
extern const std::string_view task_modality_tsv;
}  // namespace embedded

namespace {

constexpr std::array<absl::string_view, kModalityCount> kNames = {
    "nlp",     "computer_vision",        "audio", "multimodal", "time_series",
    "tabular", "reinforcement_learning", "other", "unknown",
};

}  // namespace

const std::array<Modality, kModalityCount>& AllModalities() {
  static constexpr std::array<Modality, kModalityCount> kAll = {
      Modality::kNlp,
      Modality::kComputerVision,
      Modality::kAudio,
      Modality::kMultimodal,
      Modality::kTimeSeries,
      Modality::kTabular,
      Modality::kReinforcementLearning,
      Modality::kOther,
      Modality::kUnknown,
  };
  return kAll;
}

absl::string_view ModalityName(Modality modality) { return kNames[static_cast<size_t>(modality)]; }

std::optional<Modality> ModalityFromName(absl::string_view name) {
  if (name == "cv") return Modality::kComputerVision;
  if (name == "rl") return Modality::kReinforcementLearning;
  for (Modality modality : AllModalities()) {
    if (ModalityName(modality) == name) return modality;
  }
  return std::nullopt;
}

absl::StatusOr<TaskTable> TaskTable::Parse(absl::string_view text) {
  TaskTable table;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) line = line.substr(0, hash);
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (parts.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("task table line ", line_number,
                       ": expected '<pipeline_tag> <modality>', got '", line, "'"));
    }
    std::optional<Modality> modality = ModalityFromName(parts[1]);
    if (!modality || *modality == Modality::kUnknown) {
      return absl::InvalidArgumentError(
          absl::StrCat("task table line ", line_number, ": '", parts[1], "' is not a modality"));
    }
    if (!table.modalities_.emplace(parts[0], *modality).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("task table line ", line_number, ": '", parts[0], "' is listed twice"));
    }
  }
  return table;
}

const TaskTable& TaskTable::BuiltIn() {
  static const TaskTable* const kTable = [] {
    absl::StatusOr<TaskTable> table = Parse(
        absl::string_view(embedded::task_modality_tsv.data(), embedded::task_modality_tsv.size()));
    // The shipped table is checked by tests; failing here means the build embedded a bad file.
    if (!table.ok()) std::abort();
    return new TaskTable(*std::move(table));
  }();
  return *kTable;
}

std::string TaskTable::Fingerprint() const {
  std::vector<std::pair<absl::string_view, Modality>> entries(modalities_.begin(),
                                                              modalities_.end());
  std::sort(entries.begin(), entries.end());
  uint64_t hash = 14695981039346656037ull;  // FNV-1a over "tag=modality;" in tag order.
  auto mix = [&hash](absl::string_view text) {
    for (unsigned char c : text) {
      hash ^= c;
      hash *= 1099511628211ull;
    }
  };
  for (const auto& [tag, modality] : entries) {
    mix(tag);
    mix("=");
    mix(ModalityName(modality));
    mix(";");
  }
  return absl::StrCat(entries.size(), ":", absl::Hex(hash, absl::kZeroPad16));
}

Modality TaskTable::Lookup(absl::string_view pipeline_tag) const {
  auto it = modalities_.find(pipeline_tag);
  return it == modalities_.end() ? Modality::kOther : it->second;
}

}  // namespace hubstats
