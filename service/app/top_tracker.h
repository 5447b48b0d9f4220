// TopTracker: the exact first `capacity` members of a population, by downloads descending and
// then name ascending (byte order), kept current while downloads only grow.
//
// Why it stays exact: when one member's downloads grow, only that member can move, and it can
// only move up; so a tracked set that held the first `capacity` before still does once the
// member is placed again, and a member outside the set enters only by beating the last one. The
// common case, a model far down the ranking getting a few downloads, costs one comparison.
// Anything else (downloads shrinking, a member leaving the population, a larger capacity) makes
// the tracker invalid until it is rebuilt from the whole population.
//
// Not thread-safe: the read model guards it.
#ifndef HUBSTATS_SERVICE_APP_TOP_TRACKER_H_
#define HUBSTATS_SERVICE_APP_TOP_TRACKER_H_

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace hubstats {

class TopTracker {
 public:
  // `name` gives a member's name (for ties); it must outlive the tracker.
  TopTracker(std::function<absl::string_view(uint32_t)> name, size_t capacity);

  bool valid() const { return valid_; }
  size_t capacity() const { return capacity_; }
  void Invalidate() { valid_ = false; }

  // `member` now has `downloads` (> 0), at least what it had before.
  void Grow(uint32_t member, int64_t downloads);
  // `member` leaves the population (or loses downloads): keeps the tracker valid only when the
  // member was not tracked.
  void Shrink(uint32_t member);

  // Tracks the first `capacity` of `population` (member, downloads > 0); valid afterwards.
  void Rebuild(std::vector<std::pair<uint32_t, int64_t>> population, size_t capacity);

  // The first min(n, capacity) members, in order. Requires valid().
  std::vector<std::pair<uint32_t, int64_t>> Top(size_t n) const;

 private:
  struct Entry {
    int64_t downloads;
    uint32_t member;
  };
  struct Before {
    const TopTracker* tracker;
    bool operator()(const Entry& a, const Entry& b) const;
  };

  std::function<absl::string_view(uint32_t)> name_;
  size_t capacity_;
  bool valid_ = true;  // An empty population's tracker is valid.
  absl::btree_set<Entry, Before> ranked_;
  absl::flat_hash_map<uint32_t, int64_t> tracked_;  // Member -> downloads, for those in ranked_.
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_TOP_TRACKER_H_
