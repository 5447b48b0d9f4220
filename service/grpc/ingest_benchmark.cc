// Microbenchmarks of the ingest hot path, per event: decoding a batch, validating, preparing
// plus merging a commit window (everything the server does before Redis), and applying a
// change record to a replica's read model.
//
//   build/service/grpc/hubstats_ingest_benchmark [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <random>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "app/read_model.h"
#include "app/stats_service.h"
#include "core/model_class.h"
#include "grpc/ingest_decoder.h"
#include "grpc/proto_convert.h"
#include "hubstats/v1/hubstats.pb.h"

namespace hubstats {
namespace {

constexpr int kBatch = 1000;

// A store that accepts everything and keeps nothing: what is left is the server's own work.
class NullStore : public Store {
 public:
  uint32_t shard_count() const override { return 16; }
  absl::StatusOr<std::vector<uint32_t>> AssignIndexes(uint32_t,
                                                      absl::Span<const std::string> ids) override {
    std::vector<uint32_t> indexes;
    for (const std::string& id : ids) {
      indexes.push_back(index_.try_emplace(id, static_cast<uint32_t>(index_.size())).first->second);
    }
    return indexes;
  }
  absl::StatusOr<std::vector<WindowShardResult>> ApplyWindow(
      absl::Span<const WindowShard> shards) override {
    benchmark::DoNotOptimize(shards.data());
    return std::vector<WindowShardResult>(shards.size());
  }
  absl::StatusOr<std::vector<int64_t>> ReadAuthorTotals(
      absl::Span<const absl::string_view> authors) override {
    return std::vector<int64_t>(authors.size(), 0);
  }
  absl::StatusOr<std::vector<ProducerVerdict>> CheckProducers(
      absl::Span<const BatchIdentity> identities) override {
    return std::vector<ProducerVerdict>(identities.size());
  }
  absl::Status CommitProducers(absl::Span<const BatchIdentity>) override {
    return absl::OkStatus();
  }
  absl::StatusOr<UpsertResult> UpsertModels(absl::Span<const CatalogRecord>) override {
    return UpsertResult();
  }
  absl::StatusOr<ShardSnapshot> LoadShard(uint32_t) override { return ShardSnapshot(); }
  absl::StatusOr<std::vector<ShardChanges>> ReadChanges(
      absl::Span<const std::pair<uint32_t, Version>> after, size_t) override {
    return std::vector<ShardChanges>(after.size());
  }
  absl::StatusOr<VersionVector> ReadVersions(absl::Time) override { return VersionVector(16); }
  absl::StatusOr<std::optional<Day>> FoldMonth(uint32_t, Day) override { return std::nullopt; }
  absl::StatusOr<std::vector<RevisionDownloads>> ReadRevisions(uint32_t, uint32_t, const DayRange&,
                                                               absl::Time) override {
    return std::vector<RevisionDownloads>();
  }
  absl::Status Ping() override { return absl::OkStatus(); }
  absl::StatusOr<std::string> ReadSetting(absl::string_view) override { return std::string(); }
  absl::Status WriteSetting(absl::string_view, absl::string_view) override {
    return absl::OkStatus();
  }

 private:
  absl::flat_hash_map<std::string, uint32_t> index_;
};

// A batch of Zipf-like events over `models` models (ids like the bench tool's).
v1::IngestRequest MakeBatch(int models, uint64_t seed) {
  std::mt19937_64 random(seed);
  v1::IngestRequest batch;
  batch.set_producer_id("bench");
  batch.set_sequence(seed + 1);
  for (int i = 0; i < kBatch; ++i) {
    const int index = static_cast<int>(
        std::pow(std::uniform_real_distribution<double>(0, 1)(random), 4.0) * models);
    v1::DownloadEvent* event = batch.add_events();
    event->set_model_id(absl::StrCat("org", static_cast<int>(std::pow(index, 0.75)), "/m", index));
    event->mutable_timestamp()->set_seconds(1726790400 + static_cast<int64_t>(random() % 86400));
    event->set_count(1 + static_cast<int64_t>(random() % 3));
  }
  return batch;
}

const absl::Time kNow = absl::FromUnixSeconds(1726833600);

// The same events in columns (IngestRequest.packed), as the bench tool sends them.
v1::IngestRequest Packed(const v1::IngestRequest& batch) {
  v1::IngestRequest packed;
  packed.set_producer_id(batch.producer_id());
  packed.set_sequence(batch.sequence());
  absl::flat_hash_map<std::string, uint32_t> ids;
  v1::PackedEvents* columns = packed.mutable_packed();
  for (const v1::DownloadEvent& event : batch.events()) {
    auto [it, inserted] = ids.try_emplace(event.model_id(), static_cast<uint32_t>(ids.size()));
    if (inserted) columns->add_model_ids(event.model_id());
    columns->add_model_index(it->second);
    columns->add_timestamp_seconds(event.timestamp().seconds());
    columns->add_counts(event.count());
  }
  return packed;
}

// Protobuf's own parser, for comparison with the decoder the server uses.
void BM_ProtobufParseBatch(benchmark::State& state) {
  const std::string bytes = MakeBatch(2'200'000, 1).SerializeAsString();
  for (auto _ : state) {
    v1::IngestRequest request;
    benchmark::DoNotOptimize(request.ParseFromString(bytes));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
}
BENCHMARK(BM_ProtobufParseBatch);

void BM_DecodeBatch(benchmark::State& state) {
  const bool packed = state.range(0) == 1;
  const v1::IngestRequest batch = MakeBatch(2'200'000, 1);
  const std::string bytes = (packed ? Packed(batch) : batch).SerializeAsString();
  for (auto _ : state) {
    DecodedBatch decoded;
    benchmark::DoNotOptimize(DecodeIngestRequest(bytes, kBatch, decoded));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
  state.SetLabel(packed ? "packed" : "events");
}
BENCHMARK(BM_DecodeBatch)->Arg(0)->Arg(1);

void BM_ValidateEvent(benchmark::State& state) {
  const v1::IngestRequest batch = MakeBatch(2'200'000, 2);
  std::vector<RawEvent> events;
  for (const v1::DownloadEvent& event : batch.events()) events.push_back(FromProto(event));
  for (auto _ : state) {
    for (const RawEvent& event : events) benchmark::DoNotOptimize(ValidateEvent(event, kNow));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_ValidateEvent);

// Decode + validate + per-batch merge of one packed batch, per event: what a stream's worker
// does (streams' batches are prepared on several threads at once).
void BM_DecodePrepareBatch(benchmark::State& state) {
  const std::string wire = Packed(MakeBatch(2'200'000, 100)).SerializeAsString();
  NullStore store;
  ReadModel model(TaskTable::BuiltIn(), store.shard_count());
  StatsService service(store, TaskTable::BuiltIn(), model);
  for (auto _ : state) {
    DecodedBatch decoded;
    (void)DecodeIngestRequest(wire, kBatch, decoded);
    benchmark::DoNotOptimize(service.Prepare(
        decoded.events, kNow, BatchIdentity{std::string(decoded.producer_id), decoded.sequence}));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_DecodePrepareBatch);

// The commit of a window of `range(0)` prepared batches (merge per shard, exact-limit judgement,
// index lookups, building the shards' deltas), per event, against a store that keeps nothing:
// what the one committer thread does besides waiting for Redis.
void BM_CommitWindow(benchmark::State& state) {
  const int batches = static_cast<int>(state.range(0));
  std::vector<std::string> wire;
  for (int b = 0; b < batches; ++b) {
    wire.push_back(Packed(MakeBatch(2'200'000, 100 + b)).SerializeAsString());
  }
  NullStore store;
  ReadModel model(TaskTable::BuiltIn(), store.shard_count());
  StatsService service(store, TaskTable::BuiltIn(), model);
  std::vector<DecodedBatch> decoded(batches);
  for (int b = 0; b < batches; ++b) (void)DecodeIngestRequest(wire[b], kBatch, decoded[b]);
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<PreparedBatch> prepared;
    prepared.reserve(batches);
    for (int b = 0; b < batches; ++b) {
      prepared.push_back(*service.Prepare(
          decoded[b].events, kNow,
          BatchIdentity{std::string(decoded[b].producer_id), decoded[b].sequence}));
    }
    std::vector<PreparedBatch*> window;
    for (PreparedBatch& batch : prepared) window.push_back(&batch);
    state.ResumeTiming();
    benchmark::DoNotOptimize(service.CommitWindow(window));
  }
  state.SetItemsProcessed(state.iterations() * batches * kBatch);
}
BENCHMARK(BM_CommitWindow)->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond);

// What a replica's read model spends to apply one change record with `range(0)` distinct
// models (its rankings built, so they are kept current too), per model.
void BM_ReadModelApply(benchmark::State& state) {
  const int models = static_cast<int>(state.range(0));
  ReadModel model(TaskTable::BuiltIn(), 1, ReadModelOptions{.clock = [] { return kNow; }});
  ChangeRecord indexes;
  for (int m = 0; m < 200'000; ++m) {
    indexes.indexed.push_back({static_cast<uint32_t>(m), absl::StrCat("org", m / 10, "/m", m)});
  }
  model.Apply(0, Version{0, 1}, indexes);
  model.SetReady();
  AsOf as_of;
  model.Top({}, RankBy::kModel, std::nullopt, 50, as_of);
  model.Top({}, RankBy::kAuthor, std::nullopt, 50, as_of);
  std::mt19937_64 random(3);
  uint64_t version = 2;
  for (auto _ : state) {
    state.PauseTiming();
    ChangeRecord record;
    for (int m = 0; m < models; ++m) {
      const auto index = static_cast<uint32_t>(
          std::pow(std::uniform_real_distribution<double>(0, 1)(random), 4.0) * 200'000);
      record.downloads.push_back({index, Day::FromTime(kNow), 1 + static_cast<int64_t>(m % 3)});
    }
    state.ResumeTiming();
    model.Apply(0, Version{0, version++}, record);
  }
  state.SetItemsProcessed(state.iterations() * models);
}
BENCHMARK(BM_ReadModelApply)->Arg(2'000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace hubstats

BENCHMARK_MAIN();
