// Queries over models' catalog facts on every store, recomputed here model by model: size
// classes on any boundary (7B, 13B, 70B, ...) for all time, a day, a range, a modality, after
// models change size, and per period of a trend; rankings filtered by author, task, library
// and parameter range.
#include <map>
#include <memory>
#include <random>

#include "app/service_on_store_test_util.h"
#include "core/field_error.h"
#include "core/model_id.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/store_kinds.h"
#include "store/store_test_util.h"

namespace hubstats {
namespace {

using store_testing::TestEvent;

Day D(absl::string_view text) { return *Day::Parse(text); }
const absl::Time kNow = absl::FromUnixSeconds(1726833600);  // 2024-09-20T12:00:00Z
const std::vector<int64_t> kLlmBoundaries = {7'000'000'000, 13'000'000'000, 70'000'000'000};

class SizeBoundariesTest : public test_support::ServiceOnStoreTest {
 protected:
  SizeBoundariesTest() : ServiceOnStoreTest(kNow) {}

  // Downloads per class of `boundaries` (then unknown size), model by model.
  std::vector<int64_t> Truth(const DayRange& range, const std::vector<int64_t>& boundaries,
                             std::optional<Modality> modality) {
    std::vector<int64_t> classes(boundaries.size() + 2, 0);
    for (const auto& [id, days] : downloads_) {
      const int64_t in_range = DownloadsIn(id, range);
      if (modality && ClassOf(id).modality != *modality) continue;
      const int64_t parameters = ParametersOf(id);
      if (parameters == 0) {
        classes.back() += in_range;
        continue;
      }
      size_t index = 0;
      while (index < boundaries.size() && parameters >= boundaries[index]) ++index;
      classes[index] += in_range;
    }
    return classes;
  }
  std::vector<int64_t> Answer(const DayRange& range, const std::vector<int64_t>& boundaries,
                              std::optional<Modality> modality) {
    absl::StatusOr<hubstats::Answer<SizeDistribution>> sizes =
        service_->GetSizeDistribution(range, boundaries, modality);
    EXPECT_TRUE(sizes.ok()) << sizes.status();
    std::vector<int64_t> classes;
    if (!sizes.ok()) return classes;
    for (const SizeRow& row : sizes->value.rows) classes.push_back(row.downloads);
    classes.push_back(sizes->value.unknown_downloads);
    return classes;
  }
};

TEST_P(SizeBoundariesTest, AnyBoundaryIsExact) {
  std::mt19937_64 random(5);
  // Parameter counts around the boundaries, the boundaries themselves and their neighbours.
  const std::vector<int64_t> sizes = {
      6'999'999'999,  7'000'000'000,  7'000'000'001,  8'000'000'000, 12'999'999'999,
      13'000'000'000, 69'000'000'000, 70'000'000'000, 5'000'000'000, 0,
      1'500'000'000};
  const std::vector<std::string> tags = {"text-generation", "image-classification"};
  auto records = [&] {
    std::vector<CatalogRecord> out;
    for (int m = 0; m < 30; ++m) {
      if (random() % 4 == 0) continue;  // Some models stay uncatalogued (or keep their record).
      out.push_back({.model_id = "org" + std::to_string(m % 4) + "/m" + std::to_string(m),
                     .pipeline_tag = tags[random() % tags.size()],
                     .num_parameters = sizes[random() % sizes.size()]});
    }
    return out;
  };
  Upsert(records());
  for (int round = 0; round < 3; ++round) {
    std::vector<TestEvent> events;
    for (int i = 0; i < 200; ++i) {
      events.push_back({store_testing::RandomModelId(random, 4, 30),
                        "2024-09-" + std::to_string(15 + random() % 5),
                        static_cast<int64_t>(1 + random() % 30), ""});
    }
    Ingest(events);
    Upsert(records());  // Models change size: their history moves with them.
  }
  for (const std::vector<int64_t>& boundaries :
       {kLlmBoundaries, std::vector<int64_t>{1'000'000'000, 7'000'000'000},
        std::vector<int64_t>{7'000'000'000, 7'000'000'001}}) {
    for (const DayRange& range : {DayRange{}, DayRange{D("2024-09-16"), D("2024-09-16")},
                                  DayRange{D("2024-09-15"), D("2024-09-17")}}) {
      for (std::optional<Modality> modality :
           {std::optional<Modality>(), std::optional<Modality>(Modality::kComputerVision)}) {
        SCOPED_TRACE(range.ToString() + " " + FormatParameters(boundaries[0]));
        EXPECT_EQ(Answer(range, boundaries, modality), Truth(range, boundaries, modality));
      }
    }
  }
  // A trend by day on those boundaries: each day's classes, model by model.
  absl::StatusOr<hubstats::Answer<Trend>> trend =
      service_->GetTrend({.granularity = Granularity::kDay,
                          .dimension = TrendDimension::kSize,
                          .boundaries = kLlmBoundaries});
  ASSERT_TRUE(trend.ok()) << trend.status();
  ASSERT_EQ(trend->value.periods.size(), 5u);
  EXPECT_THAT(trend->value.keys,
              ::testing::ElementsAre("<7B", "7B-13B", "13B-70B", ">=70B", "unknown"));
  for (const TrendPeriod& period : trend->value.periods) {
    EXPECT_EQ(period.downloads,
              Truth({period.period.first, period.period.last}, kLlmBoundaries, std::nullopt))
        << period.period.first.ToString();
  }
}

// Off-grid boundaries are counted by walking either the catalogued models of their fine
// buckets or, when those are more, the scope's models with downloads (once for all
// boundaries). Here 60 catalogued models fill three buckets and a dozen have downloads, so
// many boundaries walk the scope; one boundary in a bucket of two models walks the bucket.
TEST_P(SizeBoundariesTest, ManyBoundariesInManyBucketsWalkTheScopeOnce) {
  std::mt19937_64 random(11);
  const std::vector<int64_t> sizes = {2'500'000'000,  3'000'000'000,  4'999'999'999,
                                      6'000'000'000,  8'000'000'000,  9'999'999'999,
                                      12'000'000'000, 15'000'000'000, 19'000'000'000};
  std::vector<CatalogRecord> records;
  for (int m = 0; m < 60; ++m) {
    records.push_back({.model_id = "org" + std::to_string(m % 3) + "/m" + std::to_string(m),
                       .pipeline_tag = m % 2 == 0 ? "text-generation" : "image-classification",
                       .num_parameters = sizes[static_cast<size_t>(m) % sizes.size()]});
  }
  records.push_back({.model_id = "org0/small1", .num_parameters = 120'000'000});
  records.push_back({.model_id = "org0/small2", .num_parameters = 180'000'000});
  Upsert(records);
  std::vector<TestEvent> events;
  for (int i = 0; i < 100; ++i) {
    const int m = static_cast<int>(random() % 12) * 5;  // 12 of the 60 models.
    events.push_back({"org" + std::to_string(m % 3) + "/m" + std::to_string(m),
                      "2024-09-" + std::to_string(15 + random() % 3),
                      static_cast<int64_t>(1 + random() % 30), ""});
  }
  events.push_back({"org0/small1", "2024-09-15", 7, ""});
  events.push_back({"org0/small2", "2024-09-16", 9, ""});
  Ingest(events);
  for (const std::vector<int64_t>& boundaries :
       {std::vector<int64_t>{3'000'000'000, 4'000'000'000, 7'000'000'000, 9'999'999'999,
                             13'000'000'000, 15'000'000'001},
        std::vector<int64_t>{150'000'000}, std::vector<int64_t>{150'000'000, 8'000'000'000}}) {
    for (const DayRange& range : {DayRange{}, DayRange{D("2024-09-16"), D("2024-09-16")}}) {
      for (std::optional<Modality> modality :
           {std::optional<Modality>(), std::optional<Modality>(Modality::kNlp)}) {
        SCOPED_TRACE(range.ToString() + " " + FormatParameters(boundaries[0]));
        EXPECT_EQ(Answer(range, boundaries, modality), Truth(range, boundaries, modality));
      }
    }
  }
}

TEST_P(SizeBoundariesTest, FilteredRankingsCountOnlyTheAdmittedModels) {
  std::mt19937_64 random(9);
  const std::vector<std::string> tags = {"text-generation", "fill-mask", ""};
  const std::vector<std::string> libraries = {"transformers", "vllm", ""};
  std::vector<CatalogRecord> records;
  for (int m = 0; m < 40; ++m) {
    if (m % 7 == 0) continue;  // Uncatalogued: task and library "unknown".
    records.push_back({.model_id = "org" + std::to_string(m % 5) + "/m" + std::to_string(m),
                       .pipeline_tag = tags[random() % tags.size()],
                       .num_parameters = static_cast<int64_t>(random() % 4) * 5'000'000'000,
                       .library_name = libraries[random() % libraries.size()]});
  }
  Upsert(records);
  std::vector<TestEvent> events;
  for (int i = 0; i < 400; ++i) {
    events.push_back({store_testing::RandomModelId(random, 5, 40),
                      "2024-09-" + std::to_string(15 + random() % 5),
                      static_cast<int64_t>(1 + random() % 30), ""});
  }
  Ingest(events);
  // A day with two models: there a size filter walks the day's models, elsewhere (more models
  // with downloads than catalogued in the filter's buckets) the buckets' models.
  Ingest({{"org1/m1", "2024-10-01", 3, ""}, {"org3/m3", "2024-10-01", 4, ""}});
  const std::vector<TopFilter> filters = {
      {.author = "org2"},
      {.task = "text-generation"},
      {.task = "unknown"},
      {.library = "(none)"},
      {.min_parameters = 7'000'000'000},
      {.min_parameters = 5'000'000'000, .max_parameters = 10'000'000'001},
      {.modality = Modality::kNlp, .library = "transformers", .max_parameters = 12'000'000'000},
      {.author = "nobody"}};
  for (const TopFilter& filter : filters) {
    for (const DayRange& range : {DayRange{}, DayRange{D("2024-09-16"), D("2024-09-17")},
                                  DayRange{D("2024-10-01"), D("2024-10-01")}}) {
      for (RankBy by : {RankBy::kModel, RankBy::kAuthor}) {
        std::map<std::string, int64_t> members;
        int64_t total = 0;
        for (const auto& [id, days] : downloads_) {
          if (!Admits(id, filter)) continue;
          for (const auto& [day, count] : days) {
            if (!range.Contains(day)) continue;
            total += count;
            members[by == RankBy::kModel ? id : std::string(AuthorOf(id))] += count;
          }
        }
        std::vector<RankedEntry> want;
        for (const auto& [id, downloads] : members) want.push_back({id, downloads});
        const TopN expected = ComputeTopN(want, 5, total);
        absl::StatusOr<hubstats::Answer<TopN>> top = service_->GetTopN(range, by, filter, 5);
        ASSERT_TRUE(top.ok()) << top.status();
        SCOPED_TRACE(range.ToString());
        EXPECT_EQ(top->value.total_downloads, expected.total_downloads);
        ASSERT_EQ(top->value.rows.size(), expected.rows.size());
        for (size_t i = 0; i < expected.rows.size(); ++i) {
          EXPECT_EQ(top->value.rows[i].id, expected.rows[i].id);
          EXPECT_EQ(top->value.rows[i].downloads, expected.rows[i].downloads);
        }
      }
    }
  }
  EXPECT_EQ(FieldOf(service_->GetTopN({}, RankBy::kModel, {.task = ""}, 5).status()), "task");
  EXPECT_EQ(FieldOf(service_->GetTopN({}, RankBy::kModel, {.min_parameters = -1}, 5).status()),
            "min_parameters");
  EXPECT_EQ(
      FieldOf(service_
                  ->GetTopN({}, RankBy::kModel,
                            {.min_parameters = 7'000'000'000, .max_parameters = 7'000'000'000}, 5)
                  .status()),
      "max_parameters");
}

INSTANTIATE_TEST_SUITE_P(Stores, SizeBoundariesTest,
                         ::testing::ValuesIn(test_support::AllStoreKinds()),
                         [](const ::testing::TestParamInfo<test_support::StoreKind>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace hubstats
