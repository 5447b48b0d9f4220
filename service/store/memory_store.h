// MemoryStore: a Store in this process's memory.
//
// For development and for tests about logic. It keeps raw per-model, per-day counts and the
// catalog, and computes every answer from them on read (O(models) per query), so it is simple
// enough to trust and behaves exactly like RedisStore. Nothing survives a restart and nothing
// is shared between replicas.
//
// Thread-safe: one reader/writer lock.
#ifndef HUBSTATS_SERVICE_STORE_MEMORY_STORE_H_
#define HUBSTATS_SERVICE_STORE_MEMORY_STORE_H_

#include <map>
#include <shared_mutex>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "store/store.h"

namespace hubstats {

class MemoryStore : public Store {
 public:
  explicit MemoryStore(uint32_t shard_count = 16) : shard_count_(shard_count) {}

  uint32_t shard_count() const override { return shard_count_; }
  absl::StatusOr<std::vector<WindowShardResult>> ApplyWindow(
      absl::Span<const WindowShard> shards) override;
  absl::StatusOr<std::vector<ProducerVerdict>> CheckProducers(
      absl::Span<const BatchIdentity> identities) override;
  absl::Status CommitProducers(absl::Span<const BatchIdentity> identities) override;
  absl::StatusOr<std::vector<int64_t>> ReadAuthorTotals(
      absl::Span<const absl::string_view> authors) override;
  absl::Status Ping() override;
  absl::StatusOr<UpsertResult> UpsertModels(absl::Span<const CatalogEntry> entries) override;
  absl::StatusOr<AggregateCounts> ReadAggregates(const DayRange& range) override;
  absl::StatusOr<TopCandidates> ReadTop(const DayRange& range, RankBy by,
                                        std::optional<Modality> modality, int n) override;
  absl::StatusOr<Population> ReadPopulation(const DayRange& range) override;
  absl::StatusOr<ModelData> ReadModel(absl::string_view model_id, const DayRange& range) override;
  absl::Status ForEachCatalogRecord(
      const std::function<absl::Status(const CatalogRecord&)>& visit) override;
  absl::StatusOr<std::string> ReadSetting(absl::string_view name) override;
  absl::Status WriteSetting(absl::string_view name, absl::string_view value) override;

 private:
  struct ModelCounts {
    std::string author;
    int64_t all_time = 0;
    std::map<Day, int64_t> days;
    std::map<std::pair<Day, std::string>, int64_t> revisions;
  };

  // Downloads of `counts` in `range`.
  static int64_t InRange(const ModelCounts& counts, const DayRange& range);
  // The class of a model under the current catalog. Requires mutex_ held.
  const ModelClass& ClassOf(const std::string& model_id) const;
  // Rank of `model_id` with `downloads` among all models' downloads in `range` (0 if none).
  int64_t RankOf(const std::string& model_id, int64_t downloads, const DayRange& range) const;

  const uint32_t shard_count_;
  const ModelClass unknown_ = ModelClass::Unknown();
  mutable std::shared_mutex mutex_;
  absl::flat_hash_map<std::string, ModelCounts> models_;  // Models with downloads.
  absl::flat_hash_map<std::string, CatalogEntry> catalog_;
  absl::flat_hash_map<std::string, int64_t> author_totals_;
  absl::flat_hash_map<std::string, std::string> settings_;
  // Per (producer, shard): the last sequence applied. Per producer: committed sequence ->
  // digest (newest kProducerWindow), and the highest sequence trimmed from it.
  absl::flat_hash_map<std::pair<std::string, uint32_t>, uint64_t> shard_marks_;
  struct ProducerLog {
    std::map<uint64_t, uint64_t> committed;
    uint64_t floor = 0;
  };
  absl::flat_hash_map<std::string, ProducerLog> producers_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_STORE_MEMORY_STORE_H_
