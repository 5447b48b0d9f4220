// One behavioural suite, run on MemoryStore and on RedisStore against a real redis-server.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <random>

#include "core/model_id.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "redis_server.h"
#include "store/memory_store.h"
#include "store/redis_store.h"

namespace hubstats {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

testing::RedisServer& SharedRedis() {
  // Destroyed at exit, which stops the server and removes its directory.
  static testing::RedisServer server;
  return server;
}

std::string UniquePrefix() {
  static std::atomic<int> counter{0};
  return "test" + std::to_string(counter++);
}

struct StoreKind {
  std::string name;
  std::function<std::unique_ptr<Store>()> make;
};
void PrintTo(const StoreKind& kind, std::ostream* out) { *out << kind.name; }

std::unique_ptr<Store> MakeRedisStore(bool apply_with_script) {
  RedisStoreOptions options;
  options.url = SharedRedis().url();
  options.key_prefix = UniquePrefix();
  options.apply_with_script = apply_with_script;
  absl::StatusOr<std::unique_ptr<RedisStore>> store = RedisStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

Day D(absl::string_view text) { return *Day::Parse(text); }

// A small ingest helper: events as (model, day, count, revision).
struct TestEvent {
  std::string model;
  std::string day;
  int64_t count;
  std::string revision;
};

std::vector<ShardDelta> Deltas(const std::vector<TestEvent>& events, uint32_t shards) {
  DeltaBuilder builder(shards);
  for (const TestEvent& event : events) {
    builder.Add({event.model, AuthorOf(event.model), D(event.day), event.count, event.revision});
  }
  return std::move(builder).Finish();
}

CatalogEntry Entry(CatalogRecord record) {
  ModelClass model_class = Classify(record, TaskTable::BuiltIn());
  return {std::move(record), std::move(model_class)};
}

class StoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    store_ = GetParam().make();
    ASSERT_NE(store_, nullptr);
  }

  void Ingest(const std::vector<TestEvent>& events) {
    absl::StatusOr<ApplyResult> result = store_->ApplyEvents(Deltas(events, store_->shard_count()));
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_THAT(result->overflowing_authors, IsEmpty());
  }

  int64_t Upsert(std::vector<CatalogRecord> records) {
    std::vector<CatalogEntry> entries;
    for (CatalogRecord& record : records) entries.push_back(Entry(std::move(record)));
    absl::StatusOr<UpsertResult> result = store_->UpsertModels(entries);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->reclassified : -1;
  }

  AggregateCounts Aggregates(const DayRange& range = {}) {
    absl::StatusOr<AggregateCounts> counts = store_->ReadAggregates(range);
    EXPECT_TRUE(counts.ok()) << counts.status();
    AggregateCounts nonzero;
    if (counts.ok()) {
      for (auto& [field, value] : *counts) {
        if (value != 0) nonzero[field] = value;
      }
    }
    return nonzero;
  }

  std::vector<RankedEntry> Top(RankBy by, int n, const DayRange& range = {},
                               std::optional<Modality> modality = {}, int64_t* total = nullptr) {
    absl::StatusOr<TopCandidates> top = store_->ReadTop(range, by, modality, n);
    EXPECT_TRUE(top.ok()) << top.status();
    if (!top.ok()) return {};
    if (total) *total = top->total_downloads;
    return top->entries;
  }

  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, EmptyStoreAnswersZero) {
  EXPECT_THAT(Aggregates(), IsEmpty());
  int64_t total = -1;
  EXPECT_THAT(Top(RankBy::kModel, 10, {}, {}, &total), IsEmpty());
  EXPECT_EQ(total, 0);
  absl::StatusOr<Population> population = store_->ReadPopulation({});
  ASSERT_TRUE(population.ok());
  EXPECT_EQ(population->total_downloads, 0);
  EXPECT_EQ(population->first_day, std::nullopt);
  absl::StatusOr<ModelData> model = store_->ReadModel("nobody/nothing", {});
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->record, std::nullopt);
  EXPECT_EQ(model->rank_all_time, 0);
}

TEST_P(StoreTest, UncataloguedDownloadsCountAsUnknown) {
  Ingest({{"org/a", "2024-09-01", 5, ""}, {"org/a", "2024-09-02", 2, ""}});
  EXPECT_EQ(Aggregates(), (AggregateCounts{{"s|unknown|u", 7},
                                           {"t|unknown|unknown", 7},
                                           {"a|unknown|unknown", 7},
                                           {"l|unknown|unknown", 7}}));
}

TEST_P(StoreTest, CataloguedDownloadsCountUnderTheirClass) {
  EXPECT_EQ(Upsert({{.model_id = "org/bert",
                     .pipeline_tag = "fill-mask",
                     .num_parameters = 110'000'000,
                     .architecture = Architecture::kEncoder,
                     .library_name = "transformers"}}),
            1);
  Ingest({{"org/bert", "2024-09-01", 10, ""}});
  EXPECT_EQ(Aggregates(), (AggregateCounts{{"s|nlp|7", 10},
                                           {"t|nlp|fill-mask", 10},
                                           {"a|nlp|encoder", 10},
                                           {"l|nlp|transformers", 10}}));
}

TEST_P(StoreTest, UpsertMovesHistoryAllTimeAndPerDay) {
  Ingest({{"org/m", "2024-09-01", 3, "main"},
          {"org/m", "2024-09-02", 4, ""},
          {"other/x", "2024-09-02", 1, ""}});
  // Uncatalogued -> nlp, 110M.
  EXPECT_EQ(
      Upsert({{.model_id = "org/m", .pipeline_tag = "fill-mask", .num_parameters = 110'000'000}}),
      1);
  EXPECT_EQ(Aggregates()["s|nlp|7"], 7);
  EXPECT_EQ(Aggregates()["s|unknown|u"], 1);
  EXPECT_EQ(Aggregates({D("2024-09-01"), D("2024-09-01")})["s|nlp|7"], 3);
  // nlp -> audio with another size: every scope moves, nothing is left behind.
  EXPECT_EQ(Upsert({{.model_id = "org/m",
                     .pipeline_tag = "audio-classification",
                     .num_parameters = 2'000'000'000}}),
            1);
  AggregateCounts all = Aggregates();
  EXPECT_EQ(all.count("s|nlp|7"), 0u);
  EXPECT_EQ(all["s|audio|11"], 7);
  EXPECT_EQ(all["t|audio|audio-classification"], 7);
  EXPECT_EQ(all["a|audio|(none)"], 7);
  EXPECT_EQ(Aggregates({D("2024-09-02"), D("2024-09-02")}),
            (AggregateCounts{{"s|audio|11", 4},
                             {"t|audio|audio-classification", 4},
                             {"a|audio|(none)", 4},
                             {"l|audio|(none)", 4},
                             {"s|unknown|u", 1},
                             {"t|unknown|unknown", 1},
                             {"a|unknown|unknown", 1},
                             {"l|unknown|unknown", 1}}));
  // Per-modality rankings moved too.
  EXPECT_THAT(Top(RankBy::kModel, 10, {}, Modality::kAudio), ElementsAre(RankedEntry{"org/m", 7}));
  EXPECT_THAT(Top(RankBy::kModel, 10, {}, Modality::kNlp), IsEmpty());
  EXPECT_THAT(Top(RankBy::kAuthor, 10, {D("2024-09-01"), D("2024-09-01")}, Modality::kAudio),
              ElementsAre(RankedEntry{"org", 3}));
  // The same record again changes nothing.
  EXPECT_EQ(Upsert({{.model_id = "org/m",
                     .pipeline_tag = "audio-classification",
                     .num_parameters = 2'000'000'000}}),
            0);
  // A new library keeps the modality but moves the library counter.
  EXPECT_EQ(Upsert({{.model_id = "org/m",
                     .pipeline_tag = "audio-classification",
                     .num_parameters = 2'000'000'000,
                     .library_name = "speechbrain"}}),
            1);
  EXPECT_EQ(Aggregates()["l|audio|speechbrain"], 7);
  EXPECT_EQ(Aggregates().count("l|audio|(none)"), 0u);
}

TEST_P(StoreTest, TopOrdersByDownloadsThenIdAcrossShards) {
  // Many authors so the entries spread over shards; ties at the cut must go to smaller ids.
  std::vector<TestEvent> events;
  for (int i = 0; i < 40; ++i) {
    events.push_back({"author" + std::to_string(i) + "/m", "2024-09-01", i % 4 == 0 ? 100 : 7, ""});
  }
  Ingest(events);
  std::vector<RankedEntry> top = Top(RankBy::kModel, 12);
  ASSERT_EQ(top.size(), 12u);
  // Ten models have 100 (i = 0, 4, ..., 36), in id order; then the 7s in id order.
  EXPECT_EQ(top[0], (RankedEntry{"author0/m", 100}));
  EXPECT_EQ(top[1], (RankedEntry{"author12/m", 100}));
  EXPECT_EQ(top[9], (RankedEntry{"author8/m", 100}));
  EXPECT_EQ(top[10], (RankedEntry{"author1/m", 7}));
  EXPECT_EQ(top[11], (RankedEntry{"author10/m", 7}));
  int64_t total = 0;
  Top(RankBy::kModel, 1, {}, {}, &total);
  EXPECT_EQ(total, 10 * 100 + 30 * 7);
}

TEST_P(StoreTest, TopByAuthorSumsModels) {
  Ingest({{"org/a", "2024-09-01", 5, ""},
          {"org/b", "2024-09-02", 6, ""},
          {"solo/x", "2024-09-01", 10, ""},
          {"gpt2", "2024-09-01", 1, ""}});
  EXPECT_THAT(Top(RankBy::kAuthor, 10), ElementsAre(RankedEntry{"org", 11}, RankedEntry{"solo", 10},
                                                    RankedEntry{"(canonical)", 1}));
  EXPECT_THAT(
      Top(RankBy::kAuthor, 10, {D("2024-09-01"), D("2024-09-01")}),
      ElementsAre(RankedEntry{"solo", 10}, RankedEntry{"org", 5}, RankedEntry{"(canonical)", 1}));
}

TEST_P(StoreTest, RangesAreInclusiveAndMayBeOpen) {
  Ingest({{"a/m", "2024-08-31", 1, ""},
          {"a/m", "2024-09-01", 2, ""},
          {"a/m", "2024-09-15", 4, ""},
          {"a/m", "2024-09-30", 8, ""},
          {"a/m", "2024-10-01", 16, ""}});
  auto total = [&](DayRange range) { return Aggregates(range)["s|unknown|u"]; };
  EXPECT_EQ(total({}), 31);
  EXPECT_EQ(total({D("2024-09-01"), D("2024-09-30")}), 14);
  EXPECT_EQ(total({D("2024-09-15"), std::nullopt}), 28);
  EXPECT_EQ(total({std::nullopt, D("2024-09-01")}), 3);
  EXPECT_EQ(total({D("2024-09-02"), D("2024-09-14")}), 0);
  int64_t top_total = 0;
  EXPECT_THAT(Top(RankBy::kModel, 5, {D("2024-09-01"), D("2024-09-30")}, {}, &top_total),
              ElementsAre(RankedEntry{"a/m", 14}));
  EXPECT_EQ(top_total, 14);
  EXPECT_THAT(Top(RankBy::kModel, 5, {D("2024-09-02"), D("2024-09-14")}), IsEmpty());
}

TEST_P(StoreTest, RangeAnswersFollowEveryWrite) {
  // Range rankings may be cached (RedisStore); any write to a day of the range must show. One
  // author keeps every model in one shard, so that shard's range spans several days.
  const DayRange range{D("2024-09-01"), D("2024-09-03")};
  Ingest({{"org/x", "2024-09-01", 5, ""}, {"org/y", "2024-09-02", 7, ""}});
  EXPECT_THAT(Top(RankBy::kModel, 5, range),
              ElementsAre(RankedEntry{"org/y", 7}, RankedEntry{"org/x", 5}));
  EXPECT_THAT(Top(RankBy::kModel, 5, range),
              ElementsAre(RankedEntry{"org/y", 7}, RankedEntry{"org/x", 5}));
  EXPECT_EQ(Aggregates(range)["s|unknown|u"], 12);
  EXPECT_EQ(Aggregates(range)["s|unknown|u"], 12);
  Ingest({{"org/x", "2024-09-01", 4, ""}});
  EXPECT_THAT(Top(RankBy::kModel, 5, range),
              ElementsAre(RankedEntry{"org/x", 9}, RankedEntry{"org/y", 7}));
  EXPECT_EQ(Aggregates(range)["s|unknown|u"], 16);
  // A new day inside the range.
  Ingest({{"org/z", "2024-09-03", 20, ""}});
  EXPECT_THAT(Top(RankBy::kModel, 1, range), ElementsAre(RankedEntry{"org/z", 20}));
  EXPECT_THAT(Top(RankBy::kAuthor, 1, range), ElementsAre(RankedEntry{"org", 36}));
  // A reclassification moves a model between the per-modality rankings of the range.
  EXPECT_THAT(Top(RankBy::kModel, 5, range, Modality::kNlp), IsEmpty());
  Upsert({{.model_id = "org/x", .pipeline_tag = "fill-mask"}});
  EXPECT_THAT(Top(RankBy::kModel, 5, range, Modality::kNlp), ElementsAre(RankedEntry{"org/x", 9}));
  EXPECT_EQ(Aggregates(range)["s|nlp|u"], 9);
  EXPECT_EQ(Aggregates(range)["s|unknown|u"], 27);
  Upsert({{.model_id = "org/x", .pipeline_tag = "image-classification"}});
  EXPECT_THAT(Top(RankBy::kModel, 5, range, Modality::kNlp), IsEmpty());
  absl::StatusOr<Population> population = store_->ReadPopulation(range);
  ASSERT_TRUE(population.ok());
  EXPECT_EQ(population->models_with_downloads, 3);
  absl::StatusOr<ModelData> model = store_->ReadModel("org/y", range);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->rank_in_range, 3);
}

TEST_P(StoreTest, RangeTopSettlesTiesAtTheCut) {
  // One shard (one author) and three days: the range's ranking is the older days' union plus
  // the newest day, and ties at the cut must still go to the smaller ids.
  Ingest({{"org/b", "2024-09-01", 3, ""},
          {"org/d", "2024-09-01", 1, ""},
          {"org/c", "2024-09-02", 5, ""},
          {"org/b", "2024-09-03", 2, ""},
          {"org/a", "2024-09-03", 5, ""},
          {"org/e", "2024-09-03", 4, ""}});
  const DayRange range{D("2024-09-01"), D("2024-09-03")};
  EXPECT_THAT(Top(RankBy::kModel, 2, range),
              ElementsAre(RankedEntry{"org/a", 5}, RankedEntry{"org/b", 5}));
  EXPECT_THAT(
      Top(RankBy::kModel, 3, range),
      ElementsAre(RankedEntry{"org/a", 5}, RankedEntry{"org/b", 5}, RankedEntry{"org/c", 5}));
  EXPECT_THAT(Top(RankBy::kModel, 10, range),
              ElementsAre(RankedEntry{"org/a", 5}, RankedEntry{"org/b", 5}, RankedEntry{"org/c", 5},
                          RankedEntry{"org/e", 4}, RankedEntry{"org/d", 1}));
  int64_t total = 0;
  Top(RankBy::kModel, 1, range, {}, &total);
  EXPECT_EQ(total, 20);
  EXPECT_THAT(Top(RankBy::kModel, 1, {D("2024-09-02"), D("2024-09-03")}),
              ElementsAre(RankedEntry{"org/a", 5}));
}

TEST_P(StoreTest, PopulationCounts) {
  Upsert({{.model_id = "org/a"}, {.model_id = "never/downloaded"}});
  Ingest({{"org/a", "2024-09-01", 5, ""},
          {"org/b", "2024-09-03", 6, ""},
          {"solo/x", "2024-09-05", 10, ""}});
  absl::StatusOr<Population> all = store_->ReadPopulation({});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->total_downloads, 21);
  EXPECT_EQ(all->models_with_downloads, 3);
  EXPECT_EQ(all->authors_with_downloads, 2);
  EXPECT_EQ(all->catalogued_models, 2);
  EXPECT_EQ(all->first_day, D("2024-09-01"));
  EXPECT_EQ(all->last_day, D("2024-09-05"));
  absl::StatusOr<Population> part = store_->ReadPopulation({D("2024-09-02"), D("2024-09-05")});
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(part->total_downloads, 16);
  EXPECT_EQ(part->models_with_downloads, 2);
  EXPECT_EQ(part->authors_with_downloads, 2);
  EXPECT_EQ(part->first_day, D("2024-09-03"));
  EXPECT_EQ(part->last_day, D("2024-09-05"));
}

TEST_P(StoreTest, ModelDataWithRevisionsDaysAndRanks) {
  Upsert(
      {{.model_id = "org/m", .pipeline_tag = "text-generation", .num_parameters = 7'000'000'000}});
  Ingest({{"org/m", "2024-09-01", 3, "main"},
          {"org/m", "2024-09-01", 2, "v|1"},
          {"org/m", "2024-09-02", 4, ""},
          {"org/m", "2024-09-03", 1, "main"},
          {"big/one", "2024-09-02", 100, ""},
          {"tie/b", "2024-09-01", 10, ""},
          {"aaa/tie", "2024-09-01", 10, ""}});
  absl::StatusOr<ModelData> all = store_->ReadModel("org/m", {});
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_TRUE(all->record.has_value());
  EXPECT_EQ(all->record->pipeline_tag, "text-generation");
  EXPECT_EQ(all->model_class.modality, Modality::kNlp);
  EXPECT_EQ(all->downloads_all_time, 10);
  EXPECT_EQ(all->downloads_in_range, 10);
  // big/one 100, then aaa/tie 10 and org/m 10 (tie: "aaa/tie" < "org/m"), then tie/b 10.
  EXPECT_EQ(all->rank_all_time, 3);
  EXPECT_EQ(all->rank_in_range, 3);
  EXPECT_THAT(all->days,
              ElementsAre(DayDownloads{D("2024-09-01"), 5}, DayDownloads{D("2024-09-02"), 4},
                          DayDownloads{D("2024-09-03"), 1}));
  EXPECT_THAT(all->revisions, ElementsAre(RevisionDownloads{D("2024-09-01"), "main", 3},
                                          RevisionDownloads{D("2024-09-01"), "v|1", 2},
                                          RevisionDownloads{D("2024-09-03"), "main", 1}));

  absl::StatusOr<ModelData> day1 = store_->ReadModel("org/m", {D("2024-09-01"), D("2024-09-01")});
  ASSERT_TRUE(day1.ok());
  EXPECT_EQ(day1->downloads_in_range, 5);
  // On 2024-09-01: aaa/tie 10, tie/b 10, org/m 5.
  EXPECT_EQ(day1->rank_in_range, 3);
  EXPECT_EQ(day1->rank_all_time, 3);
  EXPECT_EQ(day1->days.size(), 1u);
  absl::StatusOr<ModelData> day2 = store_->ReadModel("org/m", {D("2024-09-02"), D("2024-09-03")});
  ASSERT_TRUE(day2.ok());
  EXPECT_EQ(day2->downloads_in_range, 5);
  EXPECT_EQ(day2->rank_in_range, 2);  // big/one 100, org/m 5.
  absl::StatusOr<ModelData> none = store_->ReadModel("org/m", {D("2024-10-01"), std::nullopt});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->downloads_in_range, 0);
  EXPECT_EQ(none->rank_in_range, 0);
  EXPECT_THAT(none->days, IsEmpty());
}

TEST_P(StoreTest, AuthorsPastTheExactLimitAreRefusedWhole) {
  // Bring "big" to 1e9 short of the limit in steps of at most 1e9 per event.
  const int64_t target = kMaxCounterValue - 1'000'000'000;
  // Stores take deltas as they come (event limits are the service's business), so one delta
  // can carry the whole amount.
  ModelDelta model{.model_id = "big/m",
                   .author = "big",
                   .total = target,
                   .days = {DayDelta{.day = D("2024-08-01"), .count = target}}};
  std::vector<ShardDelta> deltas = {
      ShardDelta{.shard = ShardOf("big", store_->shard_count()), .models = {model}}};
  ASSERT_TRUE(store_->ApplyEvents(deltas).ok());
  absl::StatusOr<ApplyResult> result =
      store_->ApplyEvents(Deltas({{"big/m", "2024-09-01", 600'000'000, ""},
                                  {"big/n", "2024-09-01", 600'000'000, ""},
                                  {"small/m", "2024-09-01", 5, ""}},
                                 store_->shard_count()));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->overflowing_authors, ElementsAre("big"));
  EXPECT_THAT(Top(RankBy::kAuthor, 5),
              ElementsAre(RankedEntry{"big", target}, RankedEntry{"small", 5}));
  // Up to the limit exactly is fine.
  Ingest({{"big/n", "2024-09-01", 1'000'000'000, ""}});
  EXPECT_THAT(Top(RankBy::kAuthor, 1), ElementsAre(RankedEntry{"big", kMaxCounterValue}));
}

TEST_P(StoreTest, VisitsEveryCatalogRecord) {
  std::vector<CatalogRecord> records;
  for (int i = 0; i < 2500; ++i) {
    records.push_back({.model_id = "org" + std::to_string(i % 37) + "/m" + std::to_string(i),
                       .pipeline_tag = i % 2 ? "fill-mask" : "",
                       .num_parameters = i});
  }
  Upsert(records);
  std::map<std::string, CatalogRecord> seen;
  ASSERT_TRUE(store_
                  ->ForEachCatalogRecord([&](const CatalogRecord& record) {
                    EXPECT_TRUE(seen.emplace(record.model_id, record).second) << record.model_id;
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_EQ(seen.size(), records.size());
  for (const CatalogRecord& record : records) EXPECT_EQ(seen[record.model_id], record);
  // The visitor's error stops the walk and comes back.
  int visits = 0;
  absl::Status stopped = store_->ForEachCatalogRecord([&](const CatalogRecord&) {
    return ++visits == 3 ? absl::CancelledError("enough") : absl::OkStatus();
  });
  EXPECT_EQ(stopped.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(visits, 3);
}

TEST_P(StoreTest, SettingsRoundTrip) {
  EXPECT_EQ(*store_->ReadSetting("task_table"), "");
  ASSERT_TRUE(store_->WriteSetting("task_table", "56:abc").ok());
  EXPECT_EQ(*store_->ReadSetting("task_table"), "56:abc");
  ASSERT_TRUE(store_->WriteSetting("task_table", "57:def").ok());
  EXPECT_EQ(*store_->ReadSetting("task_table"), "57:def");
}

TEST_P(StoreTest, ShardMarksApplyABatchOncePerShard) {
  const std::vector<TestEvent> events = {{"a1/m", "2024-09-01", 5, ""},
                                         {"b2/m", "2024-09-01", 7, ""},
                                         {"c3/m", "2024-09-02", 11, ""},
                                         {"d4/m", "2024-09-02", 13, ""}};
  std::vector<ShardDelta> deltas = Deltas(events, store_->shard_count());
  ASSERT_GE(deltas.size(), 2u);
  const BatchIdentity first{.producer_id = "job", .sequence = 1};
  // A failure after the first shard: only it was applied.
  ASSERT_TRUE(store_->ApplyEvents(absl::MakeSpan(deltas).subspan(0, 1), &first).ok());
  // The retry skips that shard and applies the rest; a third try applies nothing.
  absl::StatusOr<ApplyResult> retry = store_->ApplyEvents(deltas, &first);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->shards_skipped, 1);
  absl::StatusOr<ApplyResult> again = store_->ApplyEvents(deltas, &first);
  EXPECT_EQ(again->shards_skipped, static_cast<int>(deltas.size()));
  int64_t total = 0;
  Top(RankBy::kModel, 10, {}, {}, &total);
  EXPECT_EQ(total, 36);
  // Marks are per producer, and a later sequence of the same producer applies.
  const BatchIdentity other{.producer_id = "other-job", .sequence = 1};
  ASSERT_EQ(store_->ApplyEvents(deltas, &other)->shards_skipped, 0);
  const BatchIdentity next{.producer_id = "job", .sequence = 2};
  ASSERT_EQ(store_->ApplyEvents(deltas, &next)->shards_skipped, 0);
  Top(RankBy::kModel, 10, {}, {}, &total);
  EXPECT_EQ(total, 3 * 36);
}

TEST_P(StoreTest, ProducerVerdicts) {
  auto check = [&](uint64_t sequence, uint64_t digest) {
    absl::StatusOr<ProducerVerdict> verdict =
        store_->CheckProducer({.producer_id = "p", .sequence = sequence, .digest = digest});
    EXPECT_TRUE(verdict.ok()) << verdict.status();
    return verdict.ok() ? verdict->check : ProducerCheck::kNew;
  };
  auto commit = [&](uint64_t sequence, uint64_t digest) {
    ASSERT_TRUE(
        store_->CommitProducer({.producer_id = "p", .sequence = sequence, .digest = digest}).ok());
  };
  EXPECT_EQ(check(1, 10), ProducerCheck::kNew);
  commit(1, 10);
  commit(2, 20);
  commit(5, 50);  // Gaps are allowed.
  EXPECT_EQ(check(2, 20), ProducerCheck::kDuplicate);
  EXPECT_EQ(check(2, 21), ProducerCheck::kContentMismatch);
  EXPECT_EQ(check(3, 30), ProducerCheck::kOutOfOrder);
  EXPECT_EQ(check(6, 60), ProducerCheck::kNew);
  EXPECT_EQ(store_->CheckProducer({.producer_id = "p", .sequence = 6})->newest_committed, 5u);
  EXPECT_EQ(store_->CheckProducer({.producer_id = "q", .sequence = 1})->check, ProducerCheck::kNew);
}

TEST_P(StoreTest, ProducerWindowKeepsTheNewestAndAFloor) {
  for (uint64_t sequence = 1; sequence <= kProducerWindow + 5; ++sequence) {
    ASSERT_TRUE(
        store_
            ->CommitProducer({.producer_id = "long", .sequence = sequence, .digest = sequence * 7})
            .ok());
  }
  auto check = [&](uint64_t sequence, uint64_t digest) {
    return store_->CheckProducer({.producer_id = "long", .sequence = sequence, .digest = digest})
        ->check;
  };
  // Trimmed sequences count as committed whatever their digest: their content is forgotten.
  EXPECT_EQ(check(1, 0), ProducerCheck::kDuplicate);
  EXPECT_EQ(check(5, 0), ProducerCheck::kDuplicate);
  EXPECT_EQ(check(6, 6 * 7), ProducerCheck::kDuplicate);
  EXPECT_EQ(check(6, 1), ProducerCheck::kContentMismatch);
  EXPECT_EQ(check(kProducerWindow + 5, 0), ProducerCheck::kContentMismatch);
  EXPECT_EQ(check(kProducerWindow + 6, 0), ProducerCheck::kNew);
}

TEST_P(StoreTest, PingAnswers) { EXPECT_TRUE(store_->Ping().ok()); }

// Memory and Redis must agree on everything after the same random history.
TEST_P(StoreTest, RandomHistoryMatchesMemoryStore) {
  MemoryStore reference(store_->shard_count());
  std::mt19937_64 random(42);
  const std::vector<std::string> tags = {
      "fill-mask", "text-generation", "image-classification", "audio-classification",
      "",          "unmapped-task"};
  auto random_record = [&](const std::string& id) {
    CatalogRecord record{.model_id = id,
                         .pipeline_tag = tags[random() % tags.size()],
                         .num_parameters = static_cast<int64_t>(random() % 3'000'000'000),
                         .architecture = static_cast<Architecture>(random() % 5),
                         .library_name = random() % 2 ? "transformers" : ""};
    if (random() % 5 == 0) record.modality = Modality::kTabular;
    return Entry(record);
  };
  for (int round = 0; round < 6; ++round) {
    std::vector<TestEvent> events;
    for (int i = 0; i < 300; ++i) {
      const std::string model =
          "org" + std::to_string(random() % 7) + "/m" + std::to_string(random() % 12);
      events.push_back({model, "2024-09-" + std::to_string(10 + random() % 9),
                        static_cast<int64_t>(1 + random() % 50), random() % 3 ? "" : "main"});
    }
    std::vector<ShardDelta> deltas = Deltas(events, store_->shard_count());
    ASSERT_TRUE(store_->ApplyEvents(deltas).ok());
    ASSERT_TRUE(reference.ApplyEvents(deltas).ok());
    std::vector<CatalogEntry> entries;
    for (int i = 0; i < 20; ++i) {
      std::string id = "org" + std::to_string(random() % 7) + "/m" + std::to_string(random() % 12);
      bool duplicate = false;
      for (const CatalogEntry& entry : entries) duplicate |= entry.record.model_id == id;
      if (!duplicate) entries.push_back(random_record(id));
    }
    absl::StatusOr<UpsertResult> upserted = store_->UpsertModels(entries);
    absl::StatusOr<UpsertResult> expected = reference.UpsertModels(entries);
    ASSERT_TRUE(upserted.ok() && expected.ok());
    EXPECT_EQ(upserted->reclassified, expected->reclassified);
  }
  for (DayRange range : {DayRange{}, DayRange{D("2024-09-12"), D("2024-09-15")},
                         DayRange{D("2024-09-18"), std::nullopt}}) {
    SCOPED_TRACE(range.ToString());
    absl::StatusOr<AggregateCounts> want = reference.ReadAggregates(range);
    EXPECT_EQ(Aggregates(range), *want);
    for (RankBy by : {RankBy::kModel, RankBy::kAuthor}) {
      for (std::optional<Modality> modality :
           {std::optional<Modality>(), std::optional<Modality>(Modality::kNlp),
            std::optional<Modality>(Modality::kTabular)}) {
        absl::StatusOr<TopCandidates> expected_top = reference.ReadTop(range, by, modality, 15);
        int64_t total = 0;
        EXPECT_EQ(Top(by, 15, range, modality, &total), expected_top->entries);
        EXPECT_EQ(total, expected_top->total_downloads);
      }
    }
    absl::StatusOr<Population> got = store_->ReadPopulation(range);
    absl::StatusOr<Population> expected_population = reference.ReadPopulation(range);
    EXPECT_EQ(got->total_downloads, expected_population->total_downloads);
    EXPECT_EQ(got->models_with_downloads, expected_population->models_with_downloads);
    EXPECT_EQ(got->authors_with_downloads, expected_population->authors_with_downloads);
    EXPECT_EQ(got->catalogued_models, expected_population->catalogued_models);
    for (const char* id : {"org0/m0", "org3/m5", "org6/m11"}) {
      absl::StatusOr<ModelData> model = store_->ReadModel(id, range);
      absl::StatusOr<ModelData> expected_model = reference.ReadModel(id, range);
      EXPECT_EQ(model->downloads_in_range, expected_model->downloads_in_range) << id;
      EXPECT_EQ(model->rank_in_range, expected_model->rank_in_range) << id;
      EXPECT_EQ(model->rank_all_time, expected_model->rank_all_time) << id;
      EXPECT_EQ(model->days, expected_model->days) << id;
      EXPECT_EQ(model->revisions, expected_model->revisions) << id;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Stores, StoreTest,
    ::testing::Values(StoreKind{"Memory", [] { return std::make_unique<MemoryStore>(4); }},
                      StoreKind{"Redis", [] { return MakeRedisStore(false); }},
                      // The script RedisStore falls back to under contention writes the same.
                      StoreKind{"RedisScript", [] { return MakeRedisStore(true); }}),
    [](const ::testing::TestParamInfo<StoreKind>& info) { return info.param.name; });

}  // namespace
}  // namespace hubstats
