// Trends on every store: each period of a trend equals the range query over that period's days
// (modality share, size distribution, breakdowns, top-N), across ISO weeks that span years,
// months of 28 to 31 days and a leap day; periods without downloads are present with zeros.
#include <map>
#include <memory>
#include <random>
#include <set>

#include "app/service_on_store_test_util.h"
#include "core/field_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/store_kinds.h"
#include "store/store_test_util.h"

namespace hubstats {
namespace {

using store_testing::TestEvent;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Day D(absl::string_view text) { return *Day::Parse(text); }
const absl::Time kNow = absl::FromUnixSeconds(1709380800);  // 2024-03-02T12:00:00Z

class TrendTest : public test_support::ServiceOnStoreTest {
 protected:
  TrendTest() : ServiceOnStoreTest(kNow) {}

  // A random history on days around the year change 2020/2021 (2020-W53 runs to 2021-01-03)
  // and around February 2024 (a leap day), with catalog records written between the batches.
  void RandomHistory() {
    std::mt19937_64 random(11);
    const std::vector<std::string> tags = {
        "fill-mask", "text-generation", "image-classification", "automatic-speech-recognition",
        "",          "unmapped-task"};
    std::vector<Day> days;
    for (Day day = D("2020-12-24"); day <= D("2021-01-06");
         day = Day::FromNumber(day.number() + 1)) {
      days.push_back(day);
    }
    for (Day day = D("2024-01-27"); day <= D("2024-03-02");
         day = Day::FromNumber(day.number() + 1)) {
      if (day != D("2024-02-10")) days.push_back(day);  // One day without downloads.
    }
    for (int round = 0; round < 4; ++round) {
      std::vector<TestEvent> events;
      for (int i = 0; i < 400; ++i) {
        events.push_back({store_testing::RandomModelId(random, 6, 10),
                          days[random() % days.size()].ToString(),
                          static_cast<int64_t>(1 + random() % 40), ""});
      }
      Ingest(events);
      std::vector<CatalogRecord> records;
      std::set<std::string> named;
      for (int i = 0; i < 15; ++i) {
        std::string id = store_testing::RandomModelId(random, 6, 10);
        if (!named.insert(id).second) continue;
        records.push_back({.model_id = id,
                           .pipeline_tag = tags[random() % tags.size()],
                           .num_parameters = static_cast<int64_t>(random() % 3'000'000'000),
                           .architecture = static_cast<Architecture>(random() % 5),
                           .library_name = random() % 2 ? "transformers" : ""});
      }
      Upsert(records);
    }
  }

  Trend TrendOf(TrendQuery query) {
    absl::StatusOr<Answer<Trend>> trend = service_->GetTrend(query);
    EXPECT_TRUE(trend.ok()) << trend.status();
    return trend.ok() ? trend->value : Trend();
  }

  // Every period of `trend` against the range query over its days.
  void ExpectPeriodsMatchRangeQueries(const Trend& trend, const TrendQuery& query) {
    for (const TrendPeriod& period : trend.periods) {
      const DayRange range{period.period.first, period.period.last};
      SCOPED_TRACE(range.ToString());
      ASSERT_EQ(period.downloads.size(), trend.keys.size());
      std::map<std::string, std::pair<int64_t, double>> want;  // key -> downloads, share.
      int64_t total = 0;
      switch (query.dimension) {
        case TrendDimension::kModality: {
          const ModalityShare share = service_->GetModalityShare(range)->value;
          total = share.total_downloads;
          for (const ModalityShareRow& row : share.rows) {
            want[std::string(ModalityName(row.modality))] = {row.downloads, row.share_pct};
          }
          break;
        }
        case TrendDimension::kSize: {
          const SizeDistribution sizes =
              service_->GetSizeDistribution(range, query.boundaries, query.modality)->value;
          total = sizes.total_downloads;
          for (const SizeRow& row : sizes.rows) {
            want[row.size_class.label] = {row.downloads, row.share_pct};
          }
          want["unknown"] = {sizes.unknown_downloads, sizes.unknown_share_pct};
          break;
        }
        case TrendDimension::kTask:
        case TrendDimension::kLibrary: {
          const Breakdown breakdown =
              service_
                  ->GetBreakdown(range,
                                 query.dimension == TrendDimension::kTask ? AggregateKind::kTask
                                                                          : AggregateKind::kLibrary,
                                 query.modality)
                  ->value;
          total = breakdown.total_downloads;
          for (const BreakdownRow& row : breakdown.rows)
            want[row.key] = {row.downloads, row.share_pct};
          break;
        }
        case TrendDimension::kTopModels:
        case TrendDimension::kTopAuthors: {
          const TopN top =
              service_
                  ->GetTopN(range,
                            query.dimension == TrendDimension::kTopModels ? RankBy::kModel
                                                                          : RankBy::kAuthor,
                            TopFilter{.modality = query.modality}, query.n)
                  ->value;
          total = top.total_downloads;
          want[TopKey(query.n)] = {top.top_downloads, top.top_share_pct};
          want["rest"] = {top.total_downloads - top.top_downloads,
                          SharePct(top.total_downloads - top.top_downloads, top.total_downloads)};
          break;
        }
        default:
          FAIL() << "dimension not covered";
      }
      EXPECT_EQ(period.total_downloads, total);
      for (size_t k = 0; k < trend.keys.size(); ++k) {
        const auto it = want.find(trend.keys[k]);
        const std::pair<int64_t, double> expected =
            it == want.end() ? std::pair<int64_t, double>{0, 0.0} : it->second;
        EXPECT_EQ(period.downloads[k], expected.first) << trend.keys[k];
        EXPECT_EQ(period.share_pct[k], expected.second) << trend.keys[k];
        if (it != want.end()) want.erase(it);
      }
      // Every row of the range query has its key in the trend.
      for (const auto& [key, value] : want) EXPECT_EQ(value.first, 0) << key << " missing";
    }
  }
};

TEST_P(TrendTest, EveryPeriodEqualsItsRangeQuery) {
  RandomHistory();
  const std::vector<DayRange> ranges = {{D("2020-12-24"), D("2021-01-06")},
                                        {D("2024-01-27"), D("2024-03-02")},
                                        {D("2024-02-10"), D("2024-02-10")}};
  for (Granularity granularity : {Granularity::kDay, Granularity::kWeek, Granularity::kMonth}) {
    for (const DayRange& range : ranges) {
      for (TrendDimension dimension :
           {TrendDimension::kModality, TrendDimension::kSize, TrendDimension::kTask,
            TrendDimension::kLibrary, TrendDimension::kTopModels, TrendDimension::kTopAuthors}) {
        for (std::optional<Modality> modality :
             {std::optional<Modality>(), std::optional<Modality>(Modality::kNlp)}) {
          if (dimension == TrendDimension::kModality && modality) continue;
          TrendQuery query{.range = range,
                           .granularity = granularity,
                           .dimension = dimension,
                           .modality = modality,
                           .n = 3};
          if (dimension == TrendDimension::kSize) query.boundaries = {100'000'000, 1'000'000'000};
          SCOPED_TRACE(std::string(GranularityName(granularity)) + " " + range.ToString() + " " +
                       std::string(TrendDimensionName(dimension)));
          const Trend trend = TrendOf(query);
          EXPECT_EQ(static_cast<int64_t>(trend.periods.size()),
                    PeriodCount(*range.first, *range.last, granularity));
          ExpectPeriodsMatchRangeQueries(trend, query);
        }
      }
    }
  }
  // The periods at the edges: 2020-W53 runs Monday 2020-12-28 to Sunday 2021-01-03; February
  // 2024 has 29 days.
  const Trend weeks = TrendOf({.range = ranges[0], .granularity = Granularity::kWeek});
  ASSERT_EQ(weeks.periods.size(), 3u);
  EXPECT_EQ(weeks.periods[1].period, (Period{D("2020-12-28"), D("2020-12-28"), D("2021-01-03")}));
  const Trend months = TrendOf({.range = ranges[1], .granularity = Granularity::kMonth});
  ASSERT_EQ(months.periods.size(), 3u);
  EXPECT_EQ(months.periods[1].period, (Period{D("2024-02-01"), D("2024-02-01"), D("2024-02-29")}));
}

TEST_P(TrendTest, PeriodsWithoutDownloadsArePresentWithZeros) {
  Ingest({{"org/a", "2023-11-15", 5, ""}, {"org/b", "2024-02-29", 7, ""}});
  const Trend trend = TrendOf({.granularity = Granularity::kMonth});  // The data's span.
  ASSERT_EQ(trend.periods.size(), 4u);  // November 2023 .. February 2024.
  EXPECT_EQ(trend.periods[0].period, (Period{D("2023-11-01"), D("2023-11-15"), D("2023-11-30")}));
  EXPECT_EQ(trend.periods[3].period, (Period{D("2024-02-01"), D("2024-02-01"), D("2024-02-29")}));
  std::vector<int64_t> totals;
  for (const TrendPeriod& period : trend.periods) totals.push_back(period.total_downloads);
  EXPECT_THAT(totals, ElementsAre(5, 0, 0, 7));
  ASSERT_EQ(trend.keys.size(), 9u);  // Every modality, the ones with downloads first.
  EXPECT_EQ(trend.keys[0], "unknown");
  EXPECT_THAT(trend.periods[1].downloads, ::testing::Each(0));
  EXPECT_THAT(trend.periods[1].share_pct, ::testing::Each(0.0));
  // A range may reach beyond the data: its periods are there, empty.
  const Trend wide =
      TrendOf({.range = {D("2023-10-30"), D("2024-03-03")}, .granularity = Granularity::kWeek});
  EXPECT_EQ(wide.periods.size(), 18u);
  // No downloads and an open end: no periods.
  EXPECT_TRUE(TrendOf({.range = {D("2025-01-01"), std::nullopt}}).periods.empty());
}

TEST_P(TrendTest, BadArgumentsNameTheirField) {
  Ingest({{"org/a", "2021-01-01", 5, ""}, {"org/b", "2024-02-29", 7, ""}});
  auto field_of = [&](TrendQuery query) {
    absl::StatusOr<Answer<Trend>> trend = service_->GetTrend(query);
    EXPECT_EQ(trend.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(FieldOf(trend.status()));
  };
  EXPECT_EQ(field_of({.range = {D("2024-02-01"), D("2024-01-01")}}), "range.end");
  EXPECT_EQ(field_of({.dimension = TrendDimension::kTask, .boundaries = {1'000'000'000}}),
            "boundaries");
  EXPECT_EQ(field_of({.dimension = TrendDimension::kSize, .boundaries = {7'000'000'000, 0}}),
            "boundaries[1]");
  EXPECT_EQ(field_of({.dimension = TrendDimension::kTopModels, .n = 0}), "n");
  EXPECT_EQ(field_of({.dimension = TrendDimension::kTopAuthors, .n = kMaxTopN + 1}), "n");
  // Too many periods, given or from the data's span (1,155 days).
  EXPECT_EQ(
      field_of({.range = {D("2020-01-01"), D("2024-01-01")}, .granularity = Granularity::kDay}),
      "range");
  absl::StatusOr<Answer<Trend>> span = service_->GetTrend({.granularity = Granularity::kDay});
  EXPECT_EQ(FieldOf(span.status()), "range");
  EXPECT_THAT(span.status().message(), HasSubstr("coarser granularity"));
  EXPECT_TRUE(service_->GetTrend({.granularity = Granularity::kWeek}).ok());
}

INSTANTIATE_TEST_SUITE_P(Stores, TrendTest, ::testing::ValuesIn(test_support::AllStoreKinds()),
                         [](const ::testing::TestParamInfo<test_support::StoreKind>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace hubstats
