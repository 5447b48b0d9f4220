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

void DeltaBuilder::Add(const ValidEvent& event) {
  auto [it, inserted] = models_.try_emplace(event.model_id);
  if (inserted) it->second.author = std::string(event.author);
  auto& [count, revisions] = it->second.days[event.day];
  count += event.count;
  if (!event.revision.empty()) {
    auto revision = revisions.find(event.revision);
    if (revision == revisions.end()) {
      revisions.emplace(std::string(event.revision), event.count);
    } else {
      revision->second += event.count;
    }
  }
}

std::vector<ShardDelta> DeltaBuilder::Finish() && {
  std::vector<ShardDelta> shards(shard_count_);
  for (uint32_t shard = 0; shard < shard_count_; ++shard) shards[shard].shard = shard;
  for (auto& [model_id, accumulator] : models_) {
    ModelDelta model;
    model.model_id = model_id;
    model.author = std::move(accumulator.author);
    for (auto& [day, counts] : accumulator.days) {
      DayDelta day_delta;
      day_delta.day = day;
      day_delta.count = counts.first;
      day_delta.revisions.assign(counts.second.begin(), counts.second.end());
      model.total += counts.first;
      model.days.push_back(std::move(day_delta));
    }
    shards[ShardOf(model.author, shard_count_)].models.push_back(std::move(model));
  }
  std::erase_if(shards, [](const ShardDelta& shard) { return shard.models.empty(); });
  for (ShardDelta& shard : shards) {
    std::sort(shard.models.begin(), shard.models.end(),
              [](const ModelDelta& a, const ModelDelta& b) { return a.model_id < b.model_id; });
  }
  return shards;
}

}  // namespace hubstats
