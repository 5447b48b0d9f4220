// Ingest deltas: validated events folded into one counter change per model and day, grouped
// by logical shard. A store applies each shard's delta atomically.
#ifndef HUBSTATS_SERVICE_CORE_DELTA_H_
#define HUBSTATS_SERVICE_CORE_DELTA_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "core/day.h"
#include "core/event.h"

namespace hubstats {

// The logical shard of an author: FNV-1a (64 bit) of its bytes, modulo `shard_count`.
// Stable across processes, versions and languages; changing it would need a migration.
uint32_t ShardOf(absl::string_view author, uint32_t shard_count);

struct DayDelta {
  Day day;
  int64_t count = 0;
  // Downloads per revision on this day (events without a revision are not listed).
  std::vector<std::pair<std::string, int64_t>> revisions;
};

struct ModelDelta {
  uint32_t index = 0;  // The model's index in its shard (Store::AssignIndexes).
  std::string model_id;
  std::string author;
  int64_t total = 0;           // Sum over days, plus all_time_only.
  int64_t all_time_only = 0;   // Late downloads counted into all time only, on no day.
  std::vector<DayDelta> days;  // Oldest first.
};

struct ShardDelta {
  uint32_t shard = 0;
  std::vector<ModelDelta> models;  // Order: see the builder that made it.
};

// Folds the events of one shard into one delta per model: its total, its days and their
// revisions. Views the events' strings (model id, author, revision): they must outlive the
// builder. Not thread-safe. This is the ingest hot path's merge: one hash lookup per event.
class ShardDeltaBuilder {
 public:
  void Add(const ValidEvent& event);
  bool empty() const { return models_.empty(); }
  // Room for `models` models without rehashing.
  void Reserve(size_t models) { models_.reserve(models); }

  // The delta of the events added: models in no particular order, days ascending, revisions
  // by name. An all_time_only event adds to its model's total and all_time_only, to no day
  // and no revision.
  ShardDelta Build(uint32_t shard) const;

 private:
  struct DayCounts {
    Day day;
    int64_t count = 0;
    std::map<absl::string_view, int64_t> revisions;
  };
  struct ModelCounts {
    absl::string_view author;
    int64_t total = 0;
    int64_t all_time_only = 0;
    std::vector<DayCounts> days;  // Unsorted: a model has few days in a batch.
  };
  absl::flat_hash_map<absl::string_view, ModelCounts> models_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_CORE_DELTA_H_
