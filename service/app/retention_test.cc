// Retention on every store: folding months of per-day detail into monthly totals keeps every
// all-time, whole-month and month-trend answer exactly what it was (on the replica that follows
// the fold and on one that loads the folded store), late downloads of a folded month count in
// it, and a range or a trend period that splits a folded month is refused, naming the field.
#include "app/retention.h"

#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "app/service_on_store_test_util.h"
#include "core/field_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/store_kinds.h"
#include "store/store_test_util.h"

namespace hubstats {
namespace {

using store_testing::TestEvent;
using ::testing::HasSubstr;

Day D(absl::string_view text) { return *Day::Parse(text); }
const absl::Time kNow = absl::FromUnixSeconds(1709380800);  // 2024-03-02T12:00:00Z

// The integers of an answer, one line each: what must not change when days are folded.
std::string Integers(const ModalityShare& share) {
  std::string out = absl::StrCat("total ", share.total_downloads, "\n");
  for (const ModalityShareRow& row : share.rows) {
    absl::StrAppend(&out, ModalityName(row.modality), " ", row.downloads, "\n");
  }
  return out;
}
std::string Integers(const TopN& top) {
  std::string out = absl::StrCat("total ", top.total_downloads, " top ", top.top_downloads, "\n");
  for (const TopRow& row : top.rows)
    absl::StrAppend(&out, row.rank, " ", row.id, " ", row.downloads, "\n");
  return out;
}
std::string Integers(const SizeDistribution& sizes) {
  std::string out =
      absl::StrCat("total ", sizes.total_downloads, " unknown ", sizes.unknown_downloads, "\n");
  for (const SizeRow& row : sizes.rows) absl::StrAppend(&out, row.downloads, "\n");
  return out;
}
std::string Integers(const Breakdown& breakdown) {
  std::string out = absl::StrCat("total ", breakdown.total_downloads, "\n");
  for (const BreakdownRow& row : breakdown.rows) {
    absl::StrAppend(&out, row.key, " ", row.downloads, "\n");
  }
  return out;
}
std::string Integers(const Trend& trend) {
  std::string out;
  for (const TrendPeriod& period : trend.periods) {
    absl::StrAppend(&out, period.period.first.ToString(), "..", period.period.last.ToString(),
                    " total ", period.total_downloads, ":");
    for (size_t k = 0; k < trend.keys.size(); ++k) {
      absl::StrAppend(&out, " ", trend.keys[k], "=", period.downloads[k]);
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}
std::string Integers(const Population& population) {
  return absl::StrCat("total ", population.total_downloads, " models ",
                      population.models_with_downloads, " authors ",
                      population.authors_with_downloads);
}

template <typename T>
std::string IntegersOf(const absl::StatusOr<Answer<T>>& answer) {
  EXPECT_TRUE(answer.ok()) << answer.status();
  return answer.ok() ? Integers(answer->value) : "error: " + answer.status().ToString();
}

class RetentionTest : public test_support::ServiceOnStoreTest {
 protected:
  RetentionTest() : ServiceOnStoreTest(kNow) {}

  // Random downloads on every day from 2023-11-01 to 2024-03-02 (2024-02 has a leap day), with
  // revisions, and catalog records of several classes.
  void RandomHistory() {
    std::mt19937_64 random(5);
    const std::vector<std::string> tags = {"fill-mask", "text-generation", "image-classification",
                                           "automatic-speech-recognition", ""};
    const int first = D("2023-11-01").number(), last = D("2024-03-02").number();
    std::vector<TestEvent> events;
    for (int i = 0; i < 3000; ++i) {
      std::string model = store_testing::RandomModelId(random, 7, 9);
      const Day day = Day::FromNumber(first + static_cast<int>(random() % (last - first + 1)));
      const auto count = static_cast<int64_t>(1 + random() % 30);
      const char* revision = random() % 2 ? "main" : "";
      events.push_back({std::move(model), day.ToString(), count, revision});
    }
    Ingest(events);
    std::vector<CatalogRecord> records;
    std::set<std::string> named;
    for (int i = 0; i < 40; ++i) {
      std::string id = store_testing::RandomModelId(random, 7, 9);
      if (!named.insert(id).second) continue;
      const std::string& tag = tags[random() % tags.size()];
      records.push_back({.model_id = id,
                         .pipeline_tag = tag,
                         .num_parameters = static_cast<int64_t>(random() % 3'000'000'000)});
    }
    Upsert(records);
  }

  // Folds every month before `before` in every shard, as the retention task does, and lets the
  // read model follow.
  void FoldBefore(Day before) {
    for (uint32_t shard = 0; shard < store_->shard_count(); ++shard) {
      for (int folds = 0; folds < 100; ++folds) {
        absl::StatusOr<std::optional<Day>> month = store_->FoldMonth(shard, before);
        ASSERT_TRUE(month.ok()) << month.status();
        if (!*month) break;
      }
    }
    ASSERT_TRUE(follower_->CatchUp().ok());
  }

  // Every answer that folding must leave exactly as it was; with `february_days`, also a range
  // that ends on a day of February (so February must not be folded).
  std::string Answers(StatsService& service, bool february_days = true) {
    std::string out;
    std::vector<DayRange> ranges = {DayRange{}, DayRange{D("2023-12-01"), D("2024-01-31")}};
    if (february_days) ranges.push_back({D("2024-01-01"), D("2024-02-15")});
    for (const DayRange& range : ranges) {
      absl::StrAppend(&out, "== ", range.ToString(), "\n");
      absl::StrAppend(&out, IntegersOf(service.GetModalityShare(range)));
      absl::StrAppend(&out, IntegersOf(service.GetSizeDistribution(range, {}, std::nullopt)));
      absl::StrAppend(&out, IntegersOf(service.GetTopN(range, RankBy::kModel, TopFilter{}, 5)));
      absl::StrAppend(&out, IntegersOf(service.GetTopN(range, RankBy::kAuthor, TopFilter{}, 3)));
      TopFilter filter;
      filter.task = "text-generation";
      absl::StrAppend(&out, IntegersOf(service.GetTopN(range, RankBy::kModel, filter, 4)));
      absl::StrAppend(&out, IntegersOf(service.GetBreakdown(range, AggregateKind::kTask, {})));
      absl::StrAppend(&out, IntegersOf(service.GetTotals(range)), "\n");
    }
    TrendQuery trend;
    trend.range = {D("2023-11-01"), D("2024-03-02")};
    trend.granularity = Granularity::kMonth;
    for (TrendDimension dimension :
         {TrendDimension::kModality, TrendDimension::kSize, TrendDimension::kTask,
          TrendDimension::kTopModels, TrendDimension::kTopAuthors}) {
      trend.dimension = dimension;
      trend.n = 3;
      absl::StrAppend(&out, IntegersOf(service.GetTrend(trend)));
    }
    return out;
  }

  static void ExpectRefused(const absl::Status& status, absl::string_view field,
                            absl::string_view mentions) {
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
    EXPECT_EQ(FieldOf(status), field) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(mentions));
  }
};

TEST_P(RetentionTest, FoldingKeepsAllTimeWholeMonthAndMonthTrendAnswersExact) {
  RandomHistory();
  const std::string before = Answers(*service_);
  FoldBefore(D("2024-02-01"));
  EXPECT_EQ(model_->FoldedMonths(),
            (std::vector<Day>{D("2023-11-01"), D("2023-12-01"), D("2024-01-01")}));
  EXPECT_EQ(Answers(*service_), before);

  // A replica that starts now loads the folded store and answers alike.
  ReadModelOptions options;
  options.clock = [] { return kNow; };
  ReadModel fresh(TaskTable::BuiltIn(), store_->shard_count(), options);
  Follower follower(*store_, fresh);
  ASSERT_TRUE(follower.CatchUp().ok());
  StatsService service(*store_, TaskTable::BuiltIn(), fresh);
  EXPECT_EQ(Answers(service), before);
  EXPECT_EQ(fresh.FoldedMonths(), model_->FoldedMonths());

  // Folding more keeps the same answers (a folded month's trend period is its month total).
  const std::string whole_months = Answers(*service_, /*february_days=*/false);
  FoldBefore(D("2024-03-01"));
  EXPECT_EQ(Answers(*service_, /*february_days=*/false), whole_months);
}

TEST_P(RetentionTest, AModelsDaysMonthsAndRevisionsStillAddUp) {
  Ingest({{"org/a", "2024-01-03", 5, "main"},
          {"org/a", "2024-01-20", 2, "v1"},
          {"org/a", "2024-01-21", 4, ""},
          {"org/a", "2024-02-02", 3, "main"}});
  FoldBefore(D("2024-02-01"));
  absl::StatusOr<Answer<ModelStats>> stats =
      service_->GetModelStats("org/a", {D("2024-01-01"), D("2024-02-29")});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->value.downloads_in_range, 14);
  EXPECT_EQ(stats->value.downloads_all_time, 14);
  ASSERT_EQ(stats->value.months.size(), 1u);
  EXPECT_EQ(stats->value.months[0].day, D("2024-01-01"));
  EXPECT_EQ(stats->value.months[0].downloads, 11);
  ASSERT_EQ(stats->value.days.size(), 1u);
  EXPECT_EQ(stats->value.days[0].day, D("2024-02-02"));
  EXPECT_THAT(stats->value.revisions,
              ::testing::ElementsAre(std::pair<std::string, int64_t>("main", 8),
                                     std::pair<std::string, int64_t>(std::string(kNoRevision), 4),
                                     std::pair<std::string, int64_t>("v1", 2)));
  ExpectRefused(service_->GetModelStats("org/a", {D("2024-01-21"), D("2024-02-29")}).status(),
                "range.start", "2024-01-01 or 2024-02-01");
}

TEST_P(RetentionTest, LateDownloadsOfAFoldedMonthCountInThatMonth) {
  RandomHistory();
  FoldBefore(D("2024-02-01"));
  const DayRange january{D("2024-01-01"), D("2024-01-31")};
  const int64_t total = service_->GetTotals({})->value.total_downloads;
  const int64_t in_january = service_->GetTotals(january)->value.total_downloads;
  Ingest({{"org0/m1", "2024-01-15", 7, "main"}, {"late/new", "2024-01-31", 2, ""}});
  EXPECT_EQ(service_->GetTotals({})->value.total_downloads, total + 9);
  EXPECT_EQ(service_->GetTotals(january)->value.total_downloads, in_january + 9);
  const std::string answers = Answers(*service_);
  FoldBefore(D("2024-02-01"));  // The next fold moves them into the month: nothing changes.
  EXPECT_EQ(Answers(*service_), answers);
  absl::StatusOr<Answer<TopN>> top =
      service_->GetTopN(january, RankBy::kAuthor, TopFilter{.author = "late"}, 1);
  ASSERT_TRUE(top.ok()) << top.status();
  ASSERT_EQ(top->value.rows.size(), 1u);
  EXPECT_EQ(top->value.rows[0].downloads, 2);
}

TEST_P(RetentionTest, RangesAndPeriodsThatSplitAFoldedMonthAreRefused) {
  RandomHistory();
  FoldBefore(D("2024-02-01"));
  ExpectRefused(service_->GetModalityShare({D("2024-01-15"), D("2024-02-10")}).status(),
                "range.start", "start the range on 2024-01-01 or 2024-02-01");
  ExpectRefused(service_->GetTotals({D("2023-12-01"), D("2024-01-20")}).status(), "range.end",
                "end the range on 2023-12-31 or 2024-01-31");
  ExpectRefused(
      service_->GetTopN({D("2024-01-05"), D("2024-01-05")}, RankBy::kModel, {}, 3).status(),
      "range.start", "2024-01");
  EXPECT_TRUE(service_->GetTotals({std::nullopt, D("2023-11-30")}).ok());
  TrendQuery trend;
  trend.range = {D("2023-12-01"), D("2024-02-29")};
  trend.granularity = Granularity::kDay;
  ExpectRefused(service_->GetTrend(trend).status(), "granularity",
                "ask for month periods, or start the range on or after 2024-02-01");
  trend.granularity = Granularity::kWeek;  // Weeks cross the month ends.
  ExpectRefused(service_->GetTrend(trend).status(), "granularity", "splits 202");
  trend.range = {D("2024-02-01"), D("2024-03-02")};  // After the folded months: days are kept.
  trend.granularity = Granularity::kDay;
  EXPECT_TRUE(service_->GetTrend(trend).ok());
  // Ranges with all or none of each folded month are answered.
  EXPECT_TRUE(service_->GetModalityShare({D("2024-01-01"), D("2024-02-10")}).ok());
  EXPECT_TRUE(service_->GetModalityShare({D("2024-02-10"), std::nullopt}).ok());
  EXPECT_TRUE(service_->GetModalityShare({std::nullopt, D("2023-12-31")}).ok());
}

TEST_P(RetentionTest, TheTaskFoldsEveryShardsMonthsBeforeTheBoundaryOnce) {
  RandomHistory();  // 2023-11-01 .. 2024-03-02, in several shards.
  int folds_reported = 0;
  RetentionOptions options;
  options.days = 93;  // On 2024-03-02: 2023-12-01 is the oldest day kept.
  options.clock = [] { return kNow; };
  options.on_fold = [&](uint32_t, Day month) {
    EXPECT_EQ(month, D("2023-11-01"));
    ++folds_reported;
  };
  const std::string before = Answers(*service_);
  Retention retention(*store_, options);
  absl::StatusOr<int> folded = retention.RunOnce();
  ASSERT_TRUE(folded.ok()) << folded.status();
  EXPECT_GT(*folded, 1);  // One per shard with November downloads.
  EXPECT_EQ(folds_reported, *folded);
  folded = retention.RunOnce();
  ASSERT_TRUE(folded.ok()) << folded.status();
  EXPECT_EQ(*folded, 0);
  ASSERT_TRUE(follower_->CatchUp().ok());
  EXPECT_EQ(model_->FoldedMonths(), std::vector<Day>{D("2023-11-01")});
  EXPECT_EQ(Answers(*service_), before);

  // Started, it folds by itself: with 31 days, December and January too.
  options.days = kMinRetentionDays;
  options.interval = absl::Milliseconds(10);
  options.on_fold = nullptr;
  Retention task(*store_, options);
  task.Start();
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (model_->FoldedMonths().size() < 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
    ASSERT_TRUE(follower_->CatchUp().ok());
  }
  EXPECT_EQ(model_->FoldedMonths(),
            (std::vector<Day>{D("2023-11-01"), D("2023-12-01"), D("2024-01-01")}));
  EXPECT_EQ(Answers(*service_), before);
}

INSTANTIATE_TEST_SUITE_P(Stores, RetentionTest, ::testing::ValuesIn(test_support::AllStoreKinds()),
                         [](const ::testing::TestParamInfo<test_support::StoreKind>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace hubstats
