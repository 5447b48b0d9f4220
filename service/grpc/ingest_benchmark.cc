// Microbenchmarks of the ingest hot path, per event: parsing a batch, validating, classifying,
// and preparing plus merging a commit window (everything the server does before Redis).
//
//   build/service/grpc/hubstats_ingest_benchmark [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "app/stats_service.h"
#include "core/model_class.h"
#include "grpc/proto_convert.h"
#include "hubstats/v1/hubstats.pb.h"

namespace hubstats {
namespace {

constexpr int kBatch = 1000;

// A store that accepts everything and keeps nothing: what is left is the server's own work.
class NullStore : public Store {
 public:
  uint32_t shard_count() const override { return 16; }
  absl::StatusOr<std::vector<WindowShardResult>> ApplyWindow(
      absl::Span<const WindowShard> shards) override {
    benchmark::DoNotOptimize(shards.data());
    return std::vector<WindowShardResult>(shards.size());
  }
  absl::StatusOr<std::vector<ProducerVerdict>> CheckProducers(
      absl::Span<const BatchIdentity> identities) override {
    return std::vector<ProducerVerdict>(identities.size());
  }
  absl::Status CommitProducers(absl::Span<const BatchIdentity>) override {
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<int64_t>> ReadAuthorTotals(
      absl::Span<const absl::string_view> authors) override {
    return std::vector<int64_t>(authors.size(), 0);
  }
  absl::Status Ping() override { return absl::OkStatus(); }
  absl::StatusOr<UpsertResult> UpsertModels(absl::Span<const CatalogEntry>) override {
    return UpsertResult();
  }
  absl::StatusOr<AggregateCounts> ReadAggregates(const DayRange&) override {
    return AggregateCounts();
  }
  absl::StatusOr<TopCandidates> ReadTop(const DayRange&, RankBy, std::optional<Modality>,
                                        int) override {
    return TopCandidates();
  }
  absl::StatusOr<Population> ReadPopulation(const DayRange&) override { return Population(); }
  absl::StatusOr<ModelData> ReadModel(absl::string_view, const DayRange&) override {
    return ModelData();
  }
  absl::Status ForEachCatalogRecord(
      const std::function<absl::Status(const CatalogRecord&)>&) override {
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> ReadSetting(absl::string_view) override { return std::string(); }
  absl::Status WriteSetting(absl::string_view, absl::string_view) override {
    return absl::OkStatus();
  }
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

void BM_ParseBatch(benchmark::State& state) {
  const std::string bytes = MakeBatch(2'200'000, 1).SerializeAsString();
  for (auto _ : state) {
    v1::IngestRequest request;
    benchmark::DoNotOptimize(request.ParseFromString(bytes));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
}
BENCHMARK(BM_ParseBatch);

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

void BM_ClassifyRecord(benchmark::State& state) {
  const TaskTable& table = TaskTable::BuiltIn();
  const CatalogRecord record{.model_id = "org/m",
                             .pipeline_tag = "text-generation",
                             .num_parameters = 7'000'000'000,
                             .library_name = "transformers"};
  for (auto _ : state) benchmark::DoNotOptimize(Classify(record, table).Encode());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClassifyRecord);

// Parse + validate + prepare + merge of a window of `range(0)` batches, per event: the
// server's whole CPU cost of ingest except gRPC and Redis.
void BM_ParsePrepareMergeWindow(benchmark::State& state) {
  const int batches = static_cast<int>(state.range(0));
  std::vector<std::string> wire;
  for (int b = 0; b < batches; ++b)
    wire.push_back(MakeBatch(2'200'000, 100 + b).SerializeAsString());
  NullStore store;
  StatsService service(store, TaskTable::BuiltIn());
  for (auto _ : state) {
    std::vector<v1::IngestRequest> requests(batches);
    std::vector<PreparedBatch> prepared;
    prepared.reserve(batches);
    for (int b = 0; b < batches; ++b) {
      requests[b].ParseFromString(wire[b]);
      std::vector<RawEvent> events;
      events.reserve(kBatch);
      for (const v1::DownloadEvent& event : requests[b].events())
        events.push_back(FromProto(event));
      prepared.push_back(*service.Prepare(
          events, kNow, BatchIdentity{requests[b].producer_id(), requests[b].sequence()}));
    }
    std::vector<PreparedBatch*> window;
    for (PreparedBatch& batch : prepared) window.push_back(&batch);
    benchmark::DoNotOptimize(service.CommitWindow(window));
  }
  state.SetItemsProcessed(state.iterations() * batches * kBatch);
}
BENCHMARK(BM_ParsePrepareMergeWindow)->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace hubstats

BENCHMARK_MAIN();
