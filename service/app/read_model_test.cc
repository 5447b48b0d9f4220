// The read model over every store: loaded from snapshots and kept current from the change log,
// its answers must equal a brute-force recomputation from the store's facts and the current
// catalog (the contract), after any history.
#include "app/read_model.h"

#include <map>
#include <memory>
#include <random>
#include <set>

#include "app/follower.h"
#include "core/model_id.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/memory_store.h"
#include "store/store_kinds.h"
#include "store/store_test_util.h"

namespace hubstats {
namespace {

using store_testing::TestEvent;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

Day D(absl::string_view text) { return *Day::Parse(text); }
const absl::Time kNow = absl::FromUnixSeconds(1726833600);  // 2024-09-20T12:00:00Z

// ---------------------------------------------------------------------------------------------
// The contract, recomputed from the store's facts.
// ---------------------------------------------------------------------------------------------

struct Oracle {
  store_testing::Facts facts;
  const TaskTable& tasks = TaskTable::BuiltIn();

  ModelClass ClassOf(const store_testing::ModelFacts& model) const {
    return model.record ? Classify(*model.record, tasks) : ModelClass::Unknown();
  }
  // All time is the store's all-time counter (late downloads counted on no day included); a
  // range is the sum of its days.
  int64_t InRange(const store_testing::ModelFacts& model, const DayRange& range) const {
    if (range.all_time()) return model.all_time;
    int64_t downloads = 0;
    for (const auto& [day, count] : model.days) {
      if (range.Contains(day)) downloads += count;
    }
    return downloads;
  }
  AggregateCounts Aggregates(const DayRange& range) const {
    AggregateCounts counts;
    for (const auto& [id, model] : facts.models) {
      const int64_t downloads = InRange(model, range);
      if (downloads == 0) continue;
      for (const std::string& field : ClassOf(model).AggregateFields()) counts[field] += downloads;
    }
    return counts;
  }
  TopCandidates Top(const DayRange& range, RankBy by, std::optional<Modality> modality,
                    int n) const {
    TopCandidates top;
    std::map<std::string, int64_t> by_id;
    for (const auto& [id, model] : facts.models) {
      if (modality && ClassOf(model).modality != *modality) continue;
      const int64_t downloads = InRange(model, range);
      if (downloads == 0) continue;
      top.total_downloads += downloads;
      by_id[by == RankBy::kModel ? id : std::string(AuthorOf(id))] += downloads;
    }
    for (const auto& [id, downloads] : by_id) top.entries.push_back({id, downloads});
    KeepTop(top.entries, static_cast<size_t>(n));
    return top;
  }
  int64_t Rank(const std::string& id, const DayRange& range) const {
    const int64_t mine = InRange(facts.models.at(id), range);
    if (mine == 0) return 0;
    int64_t ahead = 0;
    for (const auto& [other, model] : facts.models) {
      if (RanksBefore({other, InRange(model, range)}, {id, mine})) ++ahead;
    }
    return ahead + 1;
  }
};

// Only the non-zero counters: what both sides must agree on.
AggregateCounts NonZero(const AggregateCounts& counts) {
  AggregateCounts nonzero;
  for (const auto& [field, value] : counts) {
    if (value != 0) nonzero[field] = value;
  }
  return nonzero;
}

class ReadModelTest : public ::testing::TestWithParam<test_support::StoreKind> {
 protected:
  void SetUp() override {
    store_ = GetParam().make(nullptr);
    ASSERT_NE(store_, nullptr);
    model_ = MakeModel();
    follower_ = std::make_unique<Follower>(*store_, *model_);
    ASSERT_TRUE(follower_->CatchUp().ok());
  }

  std::unique_ptr<ReadModel> MakeModel(int ranking_capacity = 4) {
    ReadModelOptions options;
    options.ranking_capacity = static_cast<size_t>(ranking_capacity);
    options.clock = [this] { return now_; };
    return std::make_unique<ReadModel>(TaskTable::BuiltIn(), store_->shard_count(), options);
  }

  void CatchUp() {
    absl::Status status = follower_->CatchUp();
    ASSERT_TRUE(status.ok()) << status;
  }
  void Ingest(const std::vector<TestEvent>& events) {
    absl::StatusOr<store_testing::ApplyResult> result = store_testing::ApplyEvents(*store_, events);
    ASSERT_TRUE(result.ok()) << result.status();
    CatchUp();
  }
  void Upsert(const std::vector<CatalogRecord>& records) {
    ASSERT_TRUE(store_->UpsertModels(records).ok());
    CatchUp();
  }

  AggregateCounts Aggregates(const DayRange& range = {},
                             AggregateKind dimension = AggregateKind::kTask) {
    AsOf as_of;
    AggregateCounts counts = NonZero(model_->Aggregates(range, AggregateKind::kSize, as_of));
    if (dimension == AggregateKind::kSize) return counts;
    // Every dimension, so tests see the four counters of each class.
    for (AggregateKind kind :
         {AggregateKind::kTask, AggregateKind::kArchitecture, AggregateKind::kLibrary}) {
      for (const auto& [field, value] : model_->Aggregates(range, kind, as_of)) {
        if (value != 0) counts[field] = value;
      }
    }
    return counts;
  }
  std::vector<RankedEntry> Top(RankBy by, int n, const DayRange& range = {},
                               std::optional<Modality> modality = {}, int64_t* total = nullptr) {
    AsOf as_of;
    TopCandidates top = model_->Top(range, by, modality, n, as_of);
    if (total) *total = top.total_downloads;
    return top.entries;
  }
  Oracle Truth() {
    absl::StatusOr<store_testing::Facts> facts = store_testing::LoadFacts(*store_);
    EXPECT_TRUE(facts.ok()) << facts.status();
    return Oracle{facts.ok() ? *facts : store_testing::Facts()};
  }

  absl::Time now_ = kNow;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ReadModel> model_;
  std::unique_ptr<Follower> follower_;
};

TEST_P(ReadModelTest, EmptyModelAnswersZero) {
  EXPECT_THAT(Aggregates(), IsEmpty());
  int64_t total = -1;
  EXPECT_THAT(Top(RankBy::kModel, 10, {}, {}, &total), IsEmpty());
  EXPECT_EQ(total, 0);
  AsOf as_of;
  const Population population = model_->Totals({}, as_of);
  EXPECT_EQ(population.total_downloads, 0);
  EXPECT_EQ(population.first_day, std::nullopt);
  EXPECT_EQ(as_of.versions.size(), store_->shard_count());
  const ModelView model = model_->Model("nobody/nothing", {}, as_of);
  EXPECT_FALSE(model.known);
  EXPECT_EQ(model.rank_all_time, 0);
}

TEST_P(ReadModelTest, UncataloguedDownloadsCountAsUnknown) {
  Ingest({{"org/a", "2024-09-01", 5, ""}, {"org/a", "2024-09-02", 2, ""}});
  EXPECT_EQ(Aggregates(), (AggregateCounts{{"s|unknown|u", 7},
                                           {"t|unknown|unknown", 7},
                                           {"a|unknown|unknown", 7},
                                           {"l|unknown|unknown", 7}}));
}

TEST_P(ReadModelTest, CataloguedDownloadsCountUnderTheirClass) {
  Upsert({{.model_id = "org/bert",
           .pipeline_tag = "fill-mask",
           .num_parameters = 110'000'000,
           .architecture = Architecture::kEncoder,
           .library_name = "transformers"}});
  Ingest({{"org/bert", "2024-09-01", 10, ""}});
  EXPECT_EQ(Aggregates(), (AggregateCounts{{"s|nlp|7", 10},
                                           {"t|nlp|fill-mask", 10},
                                           {"a|nlp|encoder", 10},
                                           {"l|nlp|transformers", 10}}));
}

// Issue 11: reclassification moves a model's history, all time, each day and the rolling
// window, and its place in the per-modality rankings.
TEST_P(ReadModelTest, UpsertMovesHistoryEverywhere) {
  Ingest({{"org/m", "2024-09-01", 3, "main"},
          {"org/m", "2024-09-15", 4, ""},
          {"other/x", "2024-09-15", 1, ""}});
  const DayRange rolling{D("2024-08-22"), D("2024-09-20")};
  // Rankings exist before the change, so it must move them, not just a rebuild.
  EXPECT_THAT(Top(RankBy::kModel, 10, {}, Modality::kUnknown),
              ElementsAre(RankedEntry{"org/m", 7}, RankedEntry{"other/x", 1}));
  EXPECT_THAT(Top(RankBy::kModel, 10, rolling, Modality::kAudio), IsEmpty());
  Upsert({{.model_id = "org/m", .pipeline_tag = "fill-mask", .num_parameters = 110'000'000}});
  EXPECT_EQ(Aggregates()["s|nlp|7"], 7);
  EXPECT_EQ(Aggregates()["s|unknown|u"], 1);
  EXPECT_EQ(Aggregates({D("2024-09-01"), D("2024-09-01")})["s|nlp|7"], 3);
  EXPECT_EQ(Aggregates(rolling)["s|nlp|7"], 7);
  // nlp -> audio with another size: every scope moves, nothing is left behind.
  Upsert({{.model_id = "org/m",
           .pipeline_tag = "audio-classification",
           .num_parameters = 2'000'000'000}});
  AggregateCounts all = Aggregates();
  EXPECT_EQ(all.count("s|nlp|7"), 0u);
  EXPECT_EQ(all["s|audio|11"], 7);
  EXPECT_EQ(all["t|audio|audio-classification"], 7);
  EXPECT_EQ(all["a|audio|(none)"], 7);
  EXPECT_EQ(Aggregates({D("2024-09-15"), D("2024-09-15")}),
            (AggregateCounts{{"s|audio|11", 4},
                             {"t|audio|audio-classification", 4},
                             {"a|audio|(none)", 4},
                             {"l|audio|(none)", 4},
                             {"s|unknown|u", 1},
                             {"t|unknown|unknown", 1},
                             {"a|unknown|unknown", 1},
                             {"l|unknown|unknown", 1}}));
  EXPECT_EQ(Aggregates(rolling), Aggregates());
  // Per-modality rankings moved too, in every scope.
  EXPECT_THAT(Top(RankBy::kModel, 10, {}, Modality::kAudio), ElementsAre(RankedEntry{"org/m", 7}));
  EXPECT_THAT(Top(RankBy::kModel, 10, {}, Modality::kNlp), IsEmpty());
  EXPECT_THAT(Top(RankBy::kModel, 10, {}, Modality::kUnknown),
              ElementsAre(RankedEntry{"other/x", 1}));
  EXPECT_THAT(Top(RankBy::kModel, 10, rolling, Modality::kAudio),
              ElementsAre(RankedEntry{"org/m", 7}));
  EXPECT_THAT(Top(RankBy::kAuthor, 10, {D("2024-09-01"), D("2024-09-01")}, Modality::kAudio),
              ElementsAre(RankedEntry{"org", 3}));
  // A new library keeps the modality but moves the library counter.
  Upsert({{.model_id = "org/m",
           .pipeline_tag = "audio-classification",
           .num_parameters = 2'000'000'000,
           .library_name = "speechbrain"}});
  EXPECT_EQ(Aggregates()["l|audio|speechbrain"], 7);
  EXPECT_EQ(Aggregates().count("l|audio|(none)"), 0u);
}

TEST_P(ReadModelTest, TopOrdersByDownloadsThenIdAcrossShards) {
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

TEST_P(ReadModelTest, TopByAuthorSumsModels) {
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

TEST_P(ReadModelTest, RangesAreInclusiveAndMayBeOpen) {
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
  EXPECT_EQ(total({D("2024-08-01"), D("2024-12-31")}), 31);
  int64_t top_total = 0;
  EXPECT_THAT(Top(RankBy::kModel, 5, {D("2024-09-01"), D("2024-09-30")}, {}, &top_total),
              ElementsAre(RankedEntry{"a/m", 14}));
  EXPECT_EQ(top_total, 14);
  EXPECT_THAT(Top(RankBy::kModel, 5, {D("2024-09-02"), D("2024-09-14")}), IsEmpty());
}

TEST_P(ReadModelTest, RangeAnswersFollowEveryWrite) {
  // Range results are cached; any write to a day of the range must show.
  const DayRange range{D("2024-09-01"), D("2024-09-03")};
  Ingest({{"org/x", "2024-09-01", 5, ""},
          {"org/y", "2024-09-02", 7, ""},
          {"o/t", "2024-09-09", 1, ""}});
  EXPECT_THAT(Top(RankBy::kModel, 5, range),
              ElementsAre(RankedEntry{"org/y", 7}, RankedEntry{"org/x", 5}));
  EXPECT_THAT(Top(RankBy::kModel, 5, range),
              ElementsAre(RankedEntry{"org/y", 7}, RankedEntry{"org/x", 5}));
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
  AsOf as_of;
  EXPECT_EQ(model_->Totals(range, as_of).models_with_downloads, 3);
  EXPECT_EQ(model_->Model("org/y", range, as_of).rank_in_range, 3);
}

TEST_P(ReadModelTest, RankingsSettleTiesAtTheCutAndGrowOnDemand) {
  Ingest({{"org/b", "2024-09-01", 3, ""},
          {"org/d", "2024-09-01", 1, ""},
          {"org/c", "2024-09-02", 5, ""},
          {"org/b", "2024-09-03", 2, ""},
          {"org/a", "2024-09-03", 5, ""},
          {"org/e", "2024-09-03", 4, ""},
          {"org/f", "2024-09-04", 9, ""}});
  const DayRange range{D("2024-09-01"), D("2024-09-03")};
  // Capacity 4: asking for 2, 3 and then 10 makes the ranking grow.
  EXPECT_THAT(Top(RankBy::kModel, 2, range),
              ElementsAre(RankedEntry{"org/a", 5}, RankedEntry{"org/b", 5}));
  EXPECT_THAT(
      Top(RankBy::kModel, 3, range),
      ElementsAre(RankedEntry{"org/a", 5}, RankedEntry{"org/b", 5}, RankedEntry{"org/c", 5}));
  EXPECT_THAT(Top(RankBy::kModel, 10, range),
              ElementsAre(RankedEntry{"org/a", 5}, RankedEntry{"org/b", 5}, RankedEntry{"org/c", 5},
                          RankedEntry{"org/e", 4}, RankedEntry{"org/d", 1}));
  EXPECT_THAT(
      Top(RankBy::kModel, 10),
      ElementsAre(RankedEntry{"org/f", 9}, RankedEntry{"org/a", 5}, RankedEntry{"org/b", 5},
                  RankedEntry{"org/c", 5}, RankedEntry{"org/e", 4}, RankedEntry{"org/d", 1}));
  // Growth below the cut of a small ranking reorders it exactly.
  EXPECT_THAT(Top(RankBy::kModel, 2),
              ElementsAre(RankedEntry{"org/f", 9}, RankedEntry{"org/a", 5}));
  Ingest({{"org/d", "2024-09-04", 5, ""}, {"org/e", "2024-09-04", 1, ""}});
  EXPECT_THAT(Top(RankBy::kModel, 3), ElementsAre(RankedEntry{"org/f", 9}, RankedEntry{"org/d", 6},
                                                  RankedEntry{"org/a", 5}));
  EXPECT_THAT(
      Top(RankBy::kModel, 6),
      ElementsAre(RankedEntry{"org/f", 9}, RankedEntry{"org/d", 6}, RankedEntry{"org/a", 5},
                  RankedEntry{"org/b", 5}, RankedEntry{"org/c", 5}, RankedEntry{"org/e", 5}));
}

TEST_P(ReadModelTest, PopulationCounts) {
  Upsert({{.model_id = "org/a"}, {.model_id = "never/downloaded"}});
  Ingest({{"org/a", "2024-09-01", 5, ""},
          {"org/b", "2024-09-03", 6, ""},
          {"solo/x", "2024-09-05", 10, ""}});
  AsOf as_of;
  const Population all = model_->Totals({}, as_of);
  EXPECT_EQ(all.total_downloads, 21);
  EXPECT_EQ(all.models_with_downloads, 3);
  EXPECT_EQ(all.authors_with_downloads, 2);
  EXPECT_EQ(all.catalogued_models, 2);
  EXPECT_EQ(all.first_day, D("2024-09-01"));
  EXPECT_EQ(all.last_day, D("2024-09-05"));
  const Population part = model_->Totals({D("2024-09-02"), D("2024-09-05")}, as_of);
  EXPECT_EQ(part.total_downloads, 16);
  EXPECT_EQ(part.models_with_downloads, 2);
  EXPECT_EQ(part.authors_with_downloads, 2);
  EXPECT_EQ(part.first_day, D("2024-09-03"));
  EXPECT_EQ(part.last_day, D("2024-09-05"));
}

TEST_P(ReadModelTest, ModelViewWithDaysAndRanks) {
  Upsert(
      {{.model_id = "org/m", .pipeline_tag = "text-generation", .num_parameters = 7'000'000'000}});
  Ingest({{"org/m", "2024-09-01", 3, "main"},
          {"org/m", "2024-09-01", 2, "v|1"},
          {"org/m", "2024-09-02", 4, ""},
          {"org/m", "2024-09-03", 1, "main"},
          {"big/one", "2024-09-02", 100, ""},
          {"tie/b", "2024-09-01", 10, ""},
          {"aaa/tie", "2024-09-01", 10, ""}});
  AsOf as_of;
  const ModelView all = model_->Model("org/m", {}, as_of);
  ASSERT_TRUE(all.record.has_value());
  EXPECT_EQ(all.record->pipeline_tag, "text-generation");
  EXPECT_EQ(all.record->num_parameters, 7'000'000'000);
  EXPECT_EQ(all.model_class.modality, Modality::kNlp);
  EXPECT_EQ(all.downloads_all_time, 10);
  EXPECT_EQ(all.downloads_in_range, 10);
  // big/one 100, then aaa/tie 10 and org/m 10 (tie: "aaa/tie" < "org/m"), then tie/b 10.
  EXPECT_EQ(all.rank_all_time, 3);
  EXPECT_EQ(all.rank_in_range, 3);
  EXPECT_THAT(all.days,
              ElementsAre(DayDownloads{D("2024-09-01"), 5}, DayDownloads{D("2024-09-02"), 4},
                          DayDownloads{D("2024-09-03"), 1}));
  const ModelView day1 = model_->Model("org/m", {D("2024-09-01"), D("2024-09-01")}, as_of);
  EXPECT_EQ(day1.downloads_in_range, 5);
  EXPECT_EQ(day1.rank_in_range, 3);  // On 2024-09-01: aaa/tie 10, tie/b 10, org/m 5.
  EXPECT_EQ(day1.rank_all_time, 3);
  EXPECT_EQ(day1.days.size(), 1u);
  const ModelView day2 = model_->Model("org/m", {D("2024-09-02"), D("2024-09-03")}, as_of);
  EXPECT_EQ(day2.downloads_in_range, 5);
  EXPECT_EQ(day2.rank_in_range, 2);  // big/one 100, org/m 5.
  const ModelView none = model_->Model("org/m", {D("2024-10-01"), std::nullopt}, as_of);
  EXPECT_EQ(none.downloads_in_range, 0);
  EXPECT_EQ(none.rank_in_range, 0);
  EXPECT_THAT(none.days, IsEmpty());
}

// Issue 11: the rolling window of the last 30 days moves at midnight (UTC): the day that
// leaves takes its downloads out of the window's counts and rankings.
TEST_P(ReadModelTest, RollingWindowRollsOverAtMidnight) {
  Ingest({{"old/m", "2024-08-22", 50, ""},
          {"new/m", "2024-09-20", 10, ""},
          {"new/m", "2024-08-23", 1, ""}});
  const DayRange window{D("2024-08-22"), D("2024-09-20")};
  EXPECT_THAT(Top(RankBy::kModel, 2, window),
              ElementsAre(RankedEntry{"old/m", 50}, RankedEntry{"new/m", 11}));
  now_ += absl::Hours(12);  // 2024-09-21T00:00Z: 2024-08-22 leaves the window.
  model_->Maintain();
  const DayRange next{D("2024-08-23"), D("2024-09-21")};
  EXPECT_THAT(Top(RankBy::kModel, 2, next), ElementsAre(RankedEntry{"new/m", 11}));
  EXPECT_EQ(Aggregates(next)["s|unknown|u"], 11);
  Ingest({{"old/m", "2024-09-21", 3, ""}});
  EXPECT_THAT(Top(RankBy::kModel, 2, next),
              ElementsAre(RankedEntry{"new/m", 11}, RankedEntry{"old/m", 3}));
  // The old window is still answered exactly, as a range.
  EXPECT_THAT(Top(RankBy::kModel, 2, window),
              ElementsAre(RankedEntry{"old/m", 50}, RankedEntry{"new/m", 11}));
}

// Issue 14: late events counted into all time only (--late-events all-time) are in every
// all-time answer and in no range, day or rolling window - also for a range that spans every
// day, and after a replica loads (or reloads) the store.
TEST_P(ReadModelTest, AllTimeOnlyDownloadsAreInAllTimeAndInNoRange) {
  Upsert({{.model_id = "org/m", .pipeline_tag = "text-generation"}});
  Top(RankBy::kModel, 3);  // Rankings exist before, so the late downloads must move them.
  Ingest({{"org/m", "2024-09-19", 3, "main"},
          {"org/m", "2024-09-01", 40, "main", /*all_time_only=*/true},
          {"other/x", "2024-09-20", 10, ""},
          {"late/only", "2024-08-01", 5, "", /*all_time_only=*/true}});
  const DayRange every_day{D("2024-09-19"), D("2024-09-20")};
  const DayRange rolling{D("2024-08-22"), D("2024-09-20")};
  auto check = [&](ReadModel& model) {
    AsOf as_of;
    EXPECT_THAT(model.Top({}, RankBy::kModel, std::nullopt, 3, as_of).entries,
                ElementsAre(RankedEntry{"org/m", 43}, RankedEntry{"other/x", 10},
                            RankedEntry{"late/only", 5}));
    for (const DayRange& range : {every_day, rolling, DayRange{std::nullopt, D("2024-12-31")}}) {
      SCOPED_TRACE(range.ToString());
      const TopCandidates top = model.Top(range, RankBy::kModel, std::nullopt, 3, as_of);
      EXPECT_THAT(top.entries, ElementsAre(RankedEntry{"other/x", 10}, RankedEntry{"org/m", 3}));
      EXPECT_EQ(top.total_downloads, 13);
      EXPECT_EQ(model.Totals(range, as_of).models_with_downloads, 2);
    }
    const Population all = model.Totals({}, as_of);
    EXPECT_EQ(all.total_downloads, 58);
    EXPECT_EQ(all.models_with_downloads, 3);
    EXPECT_EQ(all.first_day, D("2024-09-19"));  // Late downloads have no day.
    EXPECT_EQ(model.Aggregates({}, AggregateKind::kTask, as_of)["t|nlp|text-generation"], 43);
    EXPECT_EQ(model.Aggregates(every_day, AggregateKind::kTask, as_of)["t|nlp|text-generation"], 3);
    const ModelView view = model.Model("org/m", {}, as_of);
    EXPECT_EQ(view.downloads_all_time, 43);
    EXPECT_EQ(view.downloads_in_range, 43);
    EXPECT_EQ(view.all_time_only, 40);
    EXPECT_THAT(view.days, ElementsAre(DayDownloads{D("2024-09-19"), 3}));
    const ModelView late_only = model.Model("late/only", every_day, as_of);
    EXPECT_EQ(late_only.downloads_all_time, 5);
    EXPECT_EQ(late_only.all_time_only, 5);
    EXPECT_EQ(late_only.downloads_in_range, 0);
    EXPECT_EQ(late_only.rank_all_time, 3);
  };
  {
    SCOPED_TRACE("followed");
    check(*model_);
  }
  std::unique_ptr<ReadModel> late = MakeModel();
  Follower late_follower(*store_, *late);
  ASSERT_TRUE(late_follower.CatchUp().ok());
  {
    SCOPED_TRACE("loaded");
    check(*late);
  }
  // A reload (what a gap in the log causes) replaces the shard's downloads, late ones included.
  for (uint32_t shard = 0; shard < store_->shard_count(); ++shard) {
    absl::StatusOr<ShardSnapshot> snapshot = store_->LoadShard(shard);
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    late->LoadShard(shard, *snapshot);
  }
  {
    SCOPED_TRACE("reloaded");
    check(*late);
  }
  // The rolling window rolls over without taking late downloads along.
  now_ += absl::Hours(12);
  model_->Maintain();
  AsOf as_of;
  EXPECT_EQ(model_->Totals({D("2024-08-23"), D("2024-09-21")}, as_of).total_downloads, 13);
  EXPECT_EQ(model_->Totals({}, as_of).total_downloads, 58);
}

// Issue 14: replicas whose clocks straddle midnight keep different rolling windows (each the
// last 30 days by its own clock), yet answer every range alike and exactly: the window only
// answers the range it equals, and other ranges are summed from their days. So day rollover
// is safe across replicas, before, during and after it.
TEST_P(ReadModelTest, ReplicasOnEitherSideOfMidnightAnswerEveryRangeAlike) {
  ReadModelOptions options;
  options.ranking_capacity = 4;
  absl::Time behind = kNow + absl::Hours(12) - absl::Seconds(1);  // 2024-09-20T23:59:59Z
  absl::Time ahead = kNow + absl::Hours(12);                      // 2024-09-21T00:00:00Z
  options.clock = [&behind] { return behind; };
  ReadModel before_midnight(TaskTable::BuiltIn(), store_->shard_count(), options);
  options.clock = [&ahead] { return ahead; };
  ReadModel after_midnight(TaskTable::BuiltIn(), store_->shard_count(), options);
  Follower follow_before(*store_, before_midnight), follow_after(*store_, after_midnight);
  Upsert({{.model_id = "org/nlp", .pipeline_tag = "text-generation"},
          {.model_id = "org/cv", .pipeline_tag = "image-classification"}});
  Ingest({{"org/nlp", "2024-08-22", 50, ""},  // In the window before midnight only.
          {"org/cv", "2024-08-23", 7, ""},
          {"org/cv", "2024-09-20", 5, ""},
          {"org/nlp", "2024-09-21", 2, ""}});  // Tomorrow before midnight: 24 h ahead is allowed.
  const std::vector<DayRange> ranges = {
      {D("2024-08-22"), D("2024-09-20")},  // The window before midnight.
      {D("2024-08-23"), D("2024-09-21")},  // The window after.
      {D("2024-08-22"), D("2024-09-21")},
      {D("2024-08-23"), D("2024-09-20")},  // Starts where the window after midnight does.
      {D("2024-09-20"), D("2024-09-20")},
      {}};
  for (int step = 0; step < 2; ++step) {
    SCOPED_TRACE(step == 0 ? "as loaded" : "after both rolled over and more downloads");
    ASSERT_TRUE(follow_before.CatchUp().ok());
    ASSERT_TRUE(follow_after.CatchUp().ok());
    before_midnight.Maintain();
    after_midnight.Maintain();
    const Oracle truth = Truth();
    for (const DayRange& range : ranges) {
      SCOPED_TRACE(range.ToString());
      AsOf as_of;
      for (ReadModel* replica : {&before_midnight, &after_midnight, model_.get()}) {
        EXPECT_EQ(replica->Top(range, RankBy::kModel, std::nullopt, 5, as_of).entries,
                  truth.Top(range, RankBy::kModel, std::nullopt, 5).entries);
        EXPECT_EQ(replica->Top(range, RankBy::kAuthor, Modality::kNlp, 5, as_of).entries,
                  truth.Top(range, RankBy::kAuthor, Modality::kNlp, 5).entries);
        AggregateCounts every_class;
        for (AggregateKind kind : {AggregateKind::kSize, AggregateKind::kTask,
                                   AggregateKind::kArchitecture, AggregateKind::kLibrary}) {
          for (const auto& [field, value] : replica->Aggregates(range, kind, as_of)) {
            if (value != 0) every_class[field] = value;
          }
        }
        EXPECT_EQ(every_class, NonZero(truth.Aggregates(range)));
      }
    }
    // The next day: both clocks pass midnight, and the new day gets downloads.
    behind += absl::Hours(24);
    ahead += absl::Hours(24);
    now_ += absl::Hours(24);
    model_->Maintain();
    Ingest({{"org/cv", "2024-09-21", 3, ""}, {"org/nlp", "2024-09-22", 1, ""}});
  }
}

// A replica that starts later (or restarts) loads the store and answers exactly like one that
// followed every change; replicas at the same versions answer alike.
TEST_P(ReadModelTest, RandomHistoryMatchesARecomputationAndALateReplica) {
  std::mt19937_64 random(7);
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
    return record;
  };
  // Query first so rankings exist and are kept, not only rebuilt.
  Top(RankBy::kModel, 3);
  Top(RankBy::kAuthor, 3, {}, Modality::kNlp);
  for (int round = 0; round < 6; ++round) {
    std::vector<TestEvent> events;
    for (int i = 0; i < 300; ++i) {
      events.push_back({store_testing::RandomModelId(random, 7, 12),
                        "2024-09-" + std::to_string(10 + random() % 11),
                        static_cast<int64_t>(1 + random() % 50), "", random() % 10 == 0});
    }
    Ingest(events);
    // A day whose per-modality ranking of authors is kept from here on (a sparse scope counts
    // per author and modality from its first such ranking).
    if (round == 0) Top(RankBy::kAuthor, 3, {D("2024-09-14"), D("2024-09-14")}, Modality::kNlp);
    std::vector<CatalogRecord> records;
    std::set<std::string> named;
    for (int i = 0; i < 20; ++i) {
      std::string id = store_testing::RandomModelId(random, 7, 12);
      if (named.insert(id).second) records.push_back(random_record(id));
    }
    Upsert(records);
    Top(RankBy::kModel, 5, {}, Modality::kTabular);
  }
  const Oracle truth = Truth();
  std::unique_ptr<ReadModel> late = MakeModel(/*ranking_capacity=*/2);
  Follower late_follower(*store_, *late);
  ASSERT_TRUE(late_follower.CatchUp().ok());
  AsOf as_of, late_as_of;
  for (DayRange range :
       {DayRange{}, DayRange{D("2024-09-12"), D("2024-09-15")},
        DayRange{D("2024-09-18"), std::nullopt}, DayRange{D("2024-08-22"), D("2024-09-20")},
        DayRange{D("2024-09-14"), D("2024-09-14")}, DayRange{std::nullopt, D("2024-09-30")}}) {
    SCOPED_TRACE(range.ToString());
    EXPECT_EQ(Aggregates(range), NonZero(truth.Aggregates(range)));
    for (AggregateKind kind : {AggregateKind::kSize, AggregateKind::kLibrary}) {
      EXPECT_EQ(model_->Aggregates(range, kind, as_of), late->Aggregates(range, kind, late_as_of));
    }
    EXPECT_EQ(as_of.versions, late_as_of.versions);
    for (RankBy by : {RankBy::kModel, RankBy::kAuthor}) {
      for (std::optional<Modality> modality :
           {std::optional<Modality>(), std::optional<Modality>(Modality::kNlp),
            std::optional<Modality>(Modality::kTabular)}) {
        const TopCandidates want = truth.Top(range, by, modality, 15);
        int64_t total = 0;
        EXPECT_EQ(Top(by, 15, range, modality, &total), want.entries);
        EXPECT_EQ(total, want.total_downloads);
        EXPECT_EQ(late->Top(range, by, modality, 15, late_as_of).entries, want.entries);
      }
    }
    const Population population = model_->Totals(range, as_of);
    int64_t models = 0;
    std::set<std::string> authors;
    for (const auto& [id, model] : truth.facts.models) {
      if (truth.InRange(model, range) == 0) continue;
      ++models;
      authors.insert(std::string(AuthorOf(id)));
    }
    EXPECT_EQ(population.models_with_downloads, models);
    EXPECT_EQ(population.authors_with_downloads, static_cast<int64_t>(authors.size()));
    for (const char* id : {"org0/m0", "org3/m5", "org6/m11"}) {
      if (!truth.facts.models.contains(id)) continue;
      const ModelView view = model_->Model(id, range, as_of);
      EXPECT_EQ(view.downloads_in_range, truth.InRange(truth.facts.models.at(id), range)) << id;
      EXPECT_EQ(view.rank_in_range, truth.Rank(id, range)) << id;
      EXPECT_EQ(view.rank_all_time, truth.Rank(id, {})) << id;
      EXPECT_EQ(view.record, truth.facts.models.at(id).record) << id;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, ReadModelTest, ::testing::ValuesIn(test_support::AllStoreKinds()),
                         [](const ::testing::TestParamInfo<test_support::StoreKind>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace hubstats
