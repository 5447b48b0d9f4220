#include "store/store.h"

namespace hubstats {

absl::StatusOr<ApplyResult> Store::ApplyEvents(absl::Span<const ShardDelta> shards,
                                               const BatchIdentity* identity) {
  std::vector<WindowShard> window;
  window.reserve(shards.size());
  for (const ShardDelta& shard : shards) {
    WindowShard& entry = window.emplace_back();
    entry.delta = shard;
    if (identity != nullptr) {
      entry.contributions.push_back(
          {identity->producer_id, identity->sequence, identity->from_client});
    }
  }
  absl::StatusOr<std::vector<WindowShardResult>> results = ApplyWindow(window);
  if (!results.ok()) return results.status();
  ApplyResult result;
  for (WindowShardResult& shard : *results) {
    if (!shard.conflicts.empty()) ++result.shards_skipped;
    for (std::string& author : shard.overflowing_authors) {
      result.overflowing_authors.push_back(std::move(author));
    }
  }
  return result;
}

absl::StatusOr<ProducerVerdict> Store::CheckProducer(const BatchIdentity& identity) {
  absl::StatusOr<std::vector<ProducerVerdict>> verdicts = CheckProducers({&identity, 1});
  if (!verdicts.ok()) return verdicts.status();
  return verdicts->front();
}

absl::Status Store::CommitProducer(const BatchIdentity& identity) {
  return CommitProducers({&identity, 1});
}

}  // namespace hubstats
