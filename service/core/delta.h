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
  std::string model_id;
  std::string author;
  int64_t total = 0;           // Sum over days.
  std::vector<DayDelta> days;  // Oldest first.
};

struct ShardDelta {
  uint32_t shard = 0;
  std::vector<ModelDelta> models;  // By model id.
};

// Folds events into shard deltas. Not thread-safe; one per batch.
class DeltaBuilder {
 public:
  explicit DeltaBuilder(uint32_t shard_count) : shard_count_(shard_count) {}

  void Add(const ValidEvent& event);

  // The deltas of all events added, shards ascending (only shards with events), models by id,
  // days ascending, revisions by name. Deterministic for a given multiset of events.
  std::vector<ShardDelta> Finish() &&;

 private:
  struct ModelAccumulator {
    std::string author;
    std::map<Day, std::pair<int64_t, std::map<std::string, int64_t, std::less<>>>> days;
  };
  uint32_t shard_count_;
  absl::flat_hash_map<std::string, ModelAccumulator> models_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_CORE_DELTA_H_
