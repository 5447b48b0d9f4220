#include "app/top_tracker.h"

#include <algorithm>

namespace hubstats {

bool TopTracker::Before::operator()(const Entry& a, const Entry& b) const {
  if (a.downloads != b.downloads) return a.downloads > b.downloads;
  if (a.member == b.member) return false;
  return tracker->name_(a.member) < tracker->name_(b.member);
}

TopTracker::TopTracker(std::function<absl::string_view(uint32_t)> name, size_t capacity)
    : name_(std::move(name)), capacity_(capacity), ranked_(Before{this}) {}

void TopTracker::Grow(uint32_t member, int64_t downloads) {
  if (!valid_) return;
  if (ranked_.size() == capacity_) {
    const Entry& last = *ranked_.rbegin();
    // Fast path: a member's downloads are at least the last one's, so anything below the last
    // is neither tracked nor entering.
    if (downloads < last.downloads) return;
    if (!tracked_.contains(member) && !Before{this}({downloads, member}, last)) return;
  }
  if (auto it = tracked_.find(member); it != tracked_.end()) {
    ranked_.erase(Entry{it->second, member});
    it->second = downloads;
    ranked_.insert(Entry{downloads, member});
    return;
  }
  ranked_.insert(Entry{downloads, member});
  tracked_.emplace(member, downloads);
  if (ranked_.size() > capacity_) {
    auto last = std::prev(ranked_.end());
    tracked_.erase(last->member);
    ranked_.erase(last);
  }
}

void TopTracker::Shrink(uint32_t member) {
  if (valid_ && tracked_.contains(member)) valid_ = false;
}

void TopTracker::Rebuild(std::vector<std::pair<uint32_t, int64_t>> population, size_t capacity) {
  capacity_ = capacity;
  ranked_.clear();
  tracked_.clear();
  auto before = [this](const std::pair<uint32_t, int64_t>& a,
                       const std::pair<uint32_t, int64_t>& b) {
    return Before{this}({a.second, a.first}, {b.second, b.first});
  };
  if (population.size() > capacity) {
    std::nth_element(population.begin(), population.begin() + static_cast<ptrdiff_t>(capacity),
                     population.end(), before);
    population.resize(capacity);
  }
  for (const auto& [member, downloads] : population) {
    ranked_.insert(Entry{downloads, member});
    tracked_.emplace(member, downloads);
  }
  valid_ = true;
}

std::vector<std::pair<uint32_t, int64_t>> TopTracker::Top(size_t n) const {
  std::vector<std::pair<uint32_t, int64_t>> top;
  top.reserve(std::min(n, ranked_.size()));
  for (const Entry& entry : ranked_) {
    if (top.size() == n) break;
    top.emplace_back(entry.member, entry.downloads);
  }
  return top;
}

}  // namespace hubstats
