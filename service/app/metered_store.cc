#include "app/metered_store.h"

#include <chrono>

namespace hubstats {
namespace {

const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& result) {
  return result.status();
}

}  // namespace

MeteredStore::MeteredStore(std::unique_ptr<Store> inner, telemetry::Registry& registry)
    : inner_(std::move(inner)),
      latency_(registry.AddHistogram("hubstats_store_call_seconds",
                                     "Duration of each call to the store (Redis), by call.",
                                     telemetry::LatencyBuckets(), {"call"})),
      calls_(registry.AddCounter("hubstats_store_calls_total",
                                 "Calls to the store (Redis), by call and status code.",
                                 {"call", "code"})) {}

template <typename Call>
auto MeteredStore::Meter(std::string_view name, Call call) {
  const auto start = std::chrono::steady_clock::now();
  auto result = call();
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  Record(name, took.count(), StatusOf(result));
  return result;
}

void MeteredStore::Record(std::string_view name, double seconds, const absl::Status& status) {
  latency_.WithLabels({name}).Observe(seconds);
  calls_.WithLabels({name, absl::StatusCodeToString(status.code())}).Increment();
}

absl::StatusOr<std::vector<uint32_t>> MeteredStore::AssignIndexes(
    uint32_t shard, absl::Span<const std::string> model_ids) {
  return Meter("AssignIndexes", [&] { return inner_->AssignIndexes(shard, model_ids); });
}

absl::StatusOr<std::vector<WindowShardResult>> MeteredStore::ApplyWindow(
    absl::Span<const WindowShard> shards) {
  return Meter("ApplyWindow", [&] { return inner_->ApplyWindow(shards); });
}

absl::StatusOr<std::vector<int64_t>> MeteredStore::ReadAuthorTotals(
    absl::Span<const absl::string_view> authors) {
  return Meter("ReadAuthorTotals", [&] { return inner_->ReadAuthorTotals(authors); });
}

absl::StatusOr<std::vector<ProducerVerdict>> MeteredStore::CheckProducers(
    absl::Span<const BatchIdentity> identities) {
  return Meter("CheckProducers", [&] { return inner_->CheckProducers(identities); });
}

absl::Status MeteredStore::CommitProducers(absl::Span<const BatchIdentity> identities) {
  return Meter("CommitProducers", [&] { return inner_->CommitProducers(identities); });
}

absl::StatusOr<UpsertResult> MeteredStore::UpsertModels(absl::Span<const CatalogRecord> records) {
  return Meter("UpsertModels", [&] { return inner_->UpsertModels(records); });
}

absl::StatusOr<ShardSnapshot> MeteredStore::LoadShard(uint32_t shard) {
  return Meter("LoadShard", [&] { return inner_->LoadShard(shard); });
}

absl::StatusOr<std::vector<ShardChanges>> MeteredStore::ReadChanges(
    absl::Span<const std::pair<uint32_t, Version>> after, size_t limit) {
  return Meter("ReadChanges", [&] { return inner_->ReadChanges(after, limit); });
}

absl::StatusOr<VersionVector> MeteredStore::ReadVersions(absl::Time deadline) {
  return Meter("ReadVersions", [&] { return inner_->ReadVersions(deadline); });
}

absl::StatusOr<std::optional<Day>> MeteredStore::FoldMonth(uint32_t shard, Day before) {
  return Meter("FoldMonth", [&] { return inner_->FoldMonth(shard, before); });
}

absl::StatusOr<std::vector<RevisionDownloads>> MeteredStore::ReadRevisions(uint32_t shard,
                                                                           uint32_t index,
                                                                           const DayRange& range,
                                                                           absl::Time deadline) {
  return Meter("ReadRevisions",
               [&] { return inner_->ReadRevisions(shard, index, range, deadline); });
}

absl::Status MeteredStore::Ping() {
  return Meter("Ping", [&] { return inner_->Ping(); });
}

absl::StatusOr<std::string> MeteredStore::ReadSetting(absl::string_view name) {
  return Meter("ReadSetting", [&] { return inner_->ReadSetting(name); });
}

absl::Status MeteredStore::WriteSetting(absl::string_view name, absl::string_view value) {
  return Meter("WriteSetting", [&] { return inner_->WriteSetting(name, value); });
}

}  // namespace hubstats
