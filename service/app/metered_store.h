// MeteredStore: a Store that times and counts every call to the Store it wraps (in production
// the RedisStore, so these are Redis' latency and errors as the service sees them), without
// knowing anything of that store's internals.
//
//   hubstats_store_call_seconds{call}        histogram of each call's duration
//   hubstats_store_calls_total{call,code}    calls by outcome: OK, UNAVAILABLE, ...
//
// `call` is the Store method: the commit window's writes (AssignIndexes, ApplyWindow,
// CheckProducers, CommitProducers, ReadAuthorTotals), catalog upserts (UpsertModels), the
// follower's reads (LoadShard, ReadChanges), retention's FoldMonth, fresh queries' ReadVersions,
// ReadRevisions, Ping,
// ReadSetting, WriteSetting. Thread-safe as the wrapped store is. Owns the store it wraps;
// borrows the registry, which must outlive it.
#ifndef HUBSTATS_SERVICE_APP_METERED_STORE_H_
#define HUBSTATS_SERVICE_APP_METERED_STORE_H_

#include <memory>
#include <string_view>

#include "store/store.h"
#include "telemetry/metrics.h"

namespace hubstats {

class MeteredStore final : public Store {
 public:
  MeteredStore(std::unique_ptr<Store> inner, telemetry::Registry& registry);

  uint32_t shard_count() const override { return inner_->shard_count(); }
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
  // Runs `call` (named `name`), recording its duration and outcome.
  template <typename Call>
  auto Meter(std::string_view name, Call call);
  void Record(std::string_view name, double seconds, const absl::Status& status);

  const std::unique_ptr<Store> inner_;
  telemetry::Family<telemetry::Histogram>& latency_;
  telemetry::Family<telemetry::Counter>& calls_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_METERED_STORE_H_
