#include "app/day_counts.h"

#include <algorithm>

namespace hubstats {

int64_t DayCounts::Add(uint32_t model, int64_t downloads) {
  if (frozen()) Thaw();
  auto [it, inserted] = open_.try_emplace(model, 0);
  it->second += downloads;
  const int64_t count = it->second;
  if (count == 0) open_.erase(it);
  return count;
}

int64_t DayCounts::Get(uint32_t model) const {
  if (!frozen()) {
    auto it = open_.find(model);
    return it == open_.end() ? 0 : it->second;
  }
  auto it = std::lower_bound(keys_.begin(), keys_.end(), model);
  return it != keys_.end() && *it == model ? values_[it - keys_.begin()] : 0;
}

void DayCounts::Freeze() {
  if (open_.empty()) return;
  std::vector<std::pair<uint32_t, int64_t>> entries(open_.begin(), open_.end());
  std::sort(entries.begin(), entries.end());
  keys_.clear();
  values_.clear();
  keys_.reserve(entries.size());
  values_.reserve(entries.size());
  for (const auto& [model, downloads] : entries) {
    keys_.push_back(model);
    values_.push_back(downloads);
  }
  absl::flat_hash_map<uint32_t, int64_t>().swap(open_);
}

void DayCounts::Thaw() {
  open_.reserve(keys_.size());
  for (size_t i = 0; i < keys_.size(); ++i) open_.emplace(keys_[i], values_[i]);
  std::vector<uint32_t>().swap(keys_);
  std::vector<int64_t>().swap(values_);
}

void DayCounts::ForEach(absl::FunctionRef<void(uint32_t model, int64_t downloads)> visit) const {
  if (frozen()) {
    for (size_t i = 0; i < keys_.size(); ++i) visit(keys_[i], values_[i]);
  } else {
    for (const auto& [model, downloads] : open_) visit(model, downloads);
  }
}

}  // namespace hubstats
