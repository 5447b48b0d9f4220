// DayCounts: downloads per model (by table number) on one day.
//
// A hash map while the day changes; Freeze() packs it into two sorted arrays (12 bytes a model
// instead of about 30) once the day has stopped changing; a later Add thaws it. Counts are
// never zero: a model that reaches 0 is removed.
//
// Not thread-safe: the read model guards it.
#ifndef HUBSTATS_SERVICE_APP_DAY_COUNTS_H_
#define HUBSTATS_SERVICE_APP_DAY_COUNTS_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"

namespace hubstats {

class DayCounts {
 public:
  // Adds `downloads` (may be negative) to the model's count; returns the new count.
  int64_t Add(uint32_t model, int64_t downloads);
  int64_t Get(uint32_t model) const;
  // A hint: Add(model, ...) comes soon; its slot is fetched into the cache meanwhile.
  void Prefetch(uint32_t model) const {
    if (!frozen()) open_.prefetch(model);
  }
  size_t size() const { return frozen() ? keys_.size() : open_.size(); }
  bool frozen() const { return open_.empty() && !keys_.empty(); }
  void Freeze();
  void ForEach(absl::FunctionRef<void(uint32_t model, int64_t downloads)> visit) const;

 private:
  void Thaw();

  absl::flat_hash_map<uint32_t, int64_t> open_;
  std::vector<uint32_t> keys_;  // Frozen: ascending.
  std::vector<int64_t> values_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_DAY_COUNTS_H_
