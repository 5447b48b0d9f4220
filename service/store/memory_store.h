// MemoryStore: a Store in this process's memory.
//
// For development and for tests about logic: the same facts, change log and versions as
// RedisStore, kept in plain maps under one lock, so it is simple enough to trust. Versions are
// {0, n}: the n-th record of the shard. Nothing survives a restart and nothing is shared
// between replicas.
//
// Thread-safe: one reader/writer lock.
#ifndef HUBSTATS_SERVICE_STORE_MEMORY_STORE_H_
#define HUBSTATS_SERVICE_STORE_MEMORY_STORE_H_

#include <deque>
#include <map>
#include <set>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "store/store.h"

namespace hubstats {

struct MemoryStoreOptions {
  uint32_t shard_count = 16;
  // Records kept in each shard's change log; older ones are dropped (a reader that needs them
  // gets a gap and loads the shard again).
  size_t log_records = 100'000;
};

class MemoryStore : public Store {
 public:
  explicit MemoryStore(MemoryStoreOptions options = {});

  uint32_t shard_count() const override { return options_.shard_count; }
  absl::StatusOr<std::vector<uint32_t>> AssignIndexes(
      uint32_t shard, absl::Span<const std::string> model_ids) override;
  absl::StatusOr<std::vector<WindowShardResult>> ApplyWindow(
      absl::Span<const WindowShard> shards) override;
  absl::StatusOr<std::vector<int64_t>> ReadAuthorTotals(
      absl::Span<const absl::string_view> authors) override;
  absl::StatusOr<std::vector<ProducerVerdict>> CheckProducers(
      absl::Span<const BatchIdentity> identities) override;
  absl::Status CommitProducers(absl::Span<const BatchIdentity> identities) override;
  absl::StatusOr<UpsertResult> UpsertModels(absl::Span<const CatalogRecord> records) override;
  absl::StatusOr<ShardSnapshot> LoadShard(uint32_t shard) override;
  absl::StatusOr<std::vector<ShardChanges>> ReadChanges(
      absl::Span<const std::pair<uint32_t, Version>> after, size_t limit) override;
  absl::StatusOr<VersionVector> ReadVersions(absl::Time deadline = absl::InfiniteFuture()) override;
  absl::StatusOr<std::optional<Day>> FoldMonth(uint32_t shard, Day before) override;
  absl::StatusOr<std::vector<RevisionDownloads>> ReadRevisions(uint32_t shard, uint32_t index,
                                                               const DayRange& range,
                                                               absl::Time deadline) override;
  absl::Status Ping() override;
  absl::StatusOr<std::string> ReadSetting(absl::string_view name) override;
  absl::Status WriteSetting(absl::string_view name, absl::string_view value) override;

 private:
  struct Model {
    std::string model_id;
    std::optional<CatalogRecord> record;
    int64_t all_time = 0;
    std::map<Day, int64_t> days;
    std::map<std::pair<Day, std::string>, int64_t> revisions;
    // Folded months (by first day), as FoldMonth moved them out of `days` and `revisions`.
    std::map<Day, int64_t> months;
    std::map<std::pair<Day, std::string>, int64_t> month_revisions;
  };
  struct Shard {
    absl::flat_hash_map<std::string, uint32_t> index_of;
    std::vector<Model> models;  // By index.
    absl::flat_hash_map<std::string, int64_t> author_totals;
    absl::flat_hash_map<std::string, uint64_t> marks;  // Producer -> last sequence applied.
    std::set<Day> folded;                              // Months FoldMonth folded.
    std::deque<std::pair<Version, ChangeRecord>> log;
    uint64_t version = 0;  // Of the newest record.
  };

  // The index of `model_id` in `shard`, assigning one (logged into `record`). Requires mutex_.
  uint32_t IndexOf(Shard& shard, const std::string& model_id, ChangeRecord& record);
  // Appends `record` to the shard's log (when it holds anything); returns the shard's version.
  // Requires mutex_.
  Version Log(Shard& shard, ChangeRecord record);

  const MemoryStoreOptions options_;
  mutable std::shared_mutex mutex_;
  std::vector<Shard> shards_;
  absl::flat_hash_map<std::string, std::string> settings_;
  // Per producer: committed sequence -> digest (newest kProducerWindow), and the highest
  // sequence trimmed from it.
  struct ProducerLog {
    std::map<uint64_t, uint64_t> committed;
    uint64_t floor = 0;
  };
  absl::flat_hash_map<std::string, ProducerLog> producers_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_STORE_MEMORY_STORE_H_
