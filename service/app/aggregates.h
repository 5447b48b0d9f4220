// Aggregates: one scope's downloads per class dimension, each qualified by modality.
//
// Every download of a model counts once in each dimension: size (fine bucket or unknown),
// task, architecture and library, under the model's modality. Adding and removing a model's
// downloads are O(1); a query turns the dimension it needs into the AggregateCounts the core's
// stats math takes.
//
// Not thread-safe: the read model guards it.
#ifndef HUBSTATS_SERVICE_APP_AGGREGATES_H_
#define HUBSTATS_SERVICE_APP_AGGREGATES_H_

#include <array>
#include <cstdint>
#include <vector>

#include "app/model_table.h"
#include "core/model_class.h"
#include "core/size_class.h"

namespace hubstats {

class Aggregates {
 public:
  void Add(const ClassKey& cls, int64_t downloads);
  // Adds every counter of `other` (a trend sums a period's days this way).
  void Merge(const Aggregates& other);

  // Total downloads (of one modality).
  int64_t Total() const;
  int64_t Total(Modality modality) const;

  // The size counters and, when `dimension` is not kSize, that dimension's counters too, by
  // their names (core/model_class.h), zero counters left out.
  AggregateCounts Counts(const ModelTable& table, AggregateKind dimension) const;

 private:
  static constexpr int kSizeSlots = kFineBucketCount + 1;  // The last one: unknown size.
  using PerKey = std::vector<int64_t>;                     // By interned key.

  std::array<std::array<int64_t, kSizeSlots>, kModalityCount> size_{};
  std::array<PerKey, kModalityCount> task_, architecture_, library_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_AGGREGATES_H_
