#include "core/delta.h"

#include <algorithm>

namespace hubstats {

uint32_t ShardOf(absl::string_view author, uint32_t shard_count) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : author) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return static_cast<uint32_t>(hash % shard_count);
}

void ShardDeltaBuilder::Add(const ValidEvent& event) {
  ModelCounts& model = models_[event.model_id];
  model.author = event.author;
  model.total += event.count;
  if (event.all_time_only) {
    model.all_time_only += event.count;
    return;
  }
  auto day = std::find_if(model.days.begin(), model.days.end(),
                          [&](const DayCounts& entry) { return entry.day == event.day; });
  if (day == model.days.end()) day = model.days.insert(model.days.end(), {event.day});
  day->count += event.count;
  if (!event.revision.empty()) day->revisions[event.revision] += event.count;
}

ShardDelta ShardDeltaBuilder::Build(uint32_t shard) const {
  ShardDelta delta;
  delta.shard = shard;
  delta.models.reserve(models_.size());
  for (const auto& [model_id, counts] : models_) {
    ModelDelta& model = delta.models.emplace_back();
    model.model_id = std::string(model_id);
    model.author = std::string(counts.author);
    model.total = counts.total;
    model.all_time_only = counts.all_time_only;
    model.days.reserve(counts.days.size());
    for (const DayCounts& day : counts.days) {
      DayDelta& out = model.days.emplace_back();
      out.day = day.day;
      out.count = day.count;
      out.revisions.reserve(day.revisions.size());
      for (const auto& [revision, downloads] : day.revisions) {
        out.revisions.emplace_back(std::string(revision), downloads);
      }
    }
    std::sort(model.days.begin(), model.days.end(),
              [](const DayDelta& a, const DayDelta& b) { return a.day < b.day; });
  }
  return delta;
}

}  // namespace hubstats
