// Modalities and the task (pipeline_tag) -> modality table.
#ifndef HUBSTATS_SERVICE_CORE_MODALITY_H_
#define HUBSTATS_SERVICE_CORE_MODALITY_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hubstats {

// The broad kind of data a model works on. kUnknown: the model has no catalog record.
enum class Modality : uint8_t {
  kNlp,
  kComputerVision,
  kAudio,
  kMultimodal,
  kTimeSeries,
  kTabular,
  kReinforcementLearning,
  kOther,
  kUnknown,
};
inline constexpr int kModalityCount = 9;

// All modalities in declaration order.
const std::array<Modality, kModalityCount>& AllModalities();

// "nlp", "computer_vision", "audio", "multimodal", "time_series", "tabular",
// "reinforcement_learning", "other", "unknown". These names appear in store keys and output.
absl::string_view ModalityName(Modality modality);

// The inverse of ModalityName; also accepts the Hub's short names "cv" and "rl".
std::optional<Modality> ModalityFromName(absl::string_view name);

// Maps pipeline tags to modalities. Immutable after construction; safe to share across threads.
class TaskTable {
 public:
  // Parses lines "<pipeline_tag><TAB or spaces><modality>"; '#' starts a comment, blank lines
  // are skipped. INVALID_ARGUMENT naming the line on a bad or duplicate entry, or an
  // entry mapping to "unknown".
  static absl::StatusOr<TaskTable> Parse(absl::string_view text);
  // The table shipped with hubstats (service/core/task_modality.tsv).
  static const TaskTable& BuiltIn();

  // The tag's modality; kOther for a tag not in the table (including the empty tag).
  Modality Lookup(absl::string_view pipeline_tag) const;
  size_t size() const { return modalities_.size(); }
  // Changes whenever any mapping changes; independent of line order and comments. Stores
  // record it to notice a changed table (see StatsService::ApplyTaskTable).
  std::string Fingerprint() const;

 private:
  absl::flat_hash_map<std::string, Modality> modalities_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_CORE_MODALITY_H_
