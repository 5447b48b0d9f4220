// Cross-tabs and exports on every store, recounted here model by model from what the fixture
// wrote: every pair of two dimensions, every exported model, with filters, over all time, a
// day and a range, and after models change class.
#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include "app/service_on_store_test_util.h"
#include "core/field_error.h"
#include "core/model_id.h"
#include "core/size_class.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

using store_testing::TestEvent;

Day D(absl::string_view text) { return *Day::Parse(text); }
const absl::Time kNow = absl::FromUnixSeconds(1726833600);  // 2024-09-20T12:00:00Z
const std::vector<int64_t> kBoundaries = {1'000'000'000, 7'000'000'000};

class WalksTest : public test_support::ServiceOnStoreTest {
 protected:
  WalksTest() : ServiceOnStoreTest(kNow) {}

  // A catalog of 40 models (some left out: uncatalogued), a mix of modalities, architectures,
  // libraries and sizes (some unknown); then events over five days.
  void Populate(uint64_t seed) {
    std::mt19937_64 random(seed);
    const std::vector<std::string> tags = {"text-generation", "fill-mask", "image-classification",
                                           "automatic-speech-recognition", ""};
    const std::vector<std::string> libraries = {"transformers", "timm", ""};
    const std::vector<Architecture> architectures = {Architecture::kDecoder, Architecture::kEncoder,
                                                     Architecture::kUnspecified};
    std::vector<CatalogRecord> records;
    // Every draw is its own statement: the operands of + are unsequenced, so draws inside one
    // expression would give other data under another compiler.
    for (int m = 0; m < 40; ++m) {
      if (random() % 5 == 0) continue;
      const std::string tag = tags[random() % tags.size()];
      const auto billions = static_cast<int64_t>(random() % 5);
      const auto off_grid = static_cast<int64_t>(random() % 2);
      const Architecture architecture = architectures[random() % architectures.size()];
      const std::string library = libraries[random() % libraries.size()];
      records.push_back({.model_id = "org" + std::to_string(m % 6) + "/m" + std::to_string(m),
                         .pipeline_tag = tag,
                         .num_parameters = billions * 2'000'000'000 + off_grid * 999'999'999,
                         .architecture = architecture,
                         .library_name = library});
    }
    Upsert(records);
    std::vector<TestEvent> events;
    for (int i = 0; i < 300; ++i) {
      const uint64_t author = random() % 6;
      const uint64_t model = random() % 40;
      const uint64_t day = 15 + random() % 5;
      const auto count = static_cast<int64_t>(1 + random() % 40);
      events.push_back({"org" + std::to_string(author) + "/m" + std::to_string(model),
                        "2024-09-" + std::to_string(day), count, ""});
    }
    Ingest(events);
  }

  // A model's key in a class dimension, decided here.
  std::string KeyOf(const std::string& id, TrendDimension dimension) const {
    const ModelClass cls = ClassOf(id);
    switch (dimension) {
      case TrendDimension::kModality:
        return std::string(ModalityName(cls.modality));
      case TrendDimension::kSize: {
        const int64_t parameters = ParametersOf(id);
        if (parameters == 0) return "unknown";
        size_t index = 0;
        while (index < kBoundaries.size() && parameters >= kBoundaries[index]) ++index;
        return SizeClassesFor(kBoundaries)[index].label;
      }
      case TrendDimension::kTask:
        return cls.task;
      case TrendDimension::kArchitecture:
        return cls.architecture;
      default:
        return cls.library;
    }
  }

  // Every pair's downloads, model by model.
  std::map<std::pair<std::string, std::string>, int64_t> Recount(
      const DayRange& range, TrendDimension rows, TrendDimension columns,
      std::optional<Modality> modality) const {
    std::map<std::pair<std::string, std::string>, int64_t> pairs;
    for (const auto& [id, days] : downloads_) {
      if (modality && ClassOf(id).modality != *modality) continue;
      const int64_t downloads = DownloadsIn(id, range);
      if (downloads > 0) pairs[{KeyOf(id, rows), KeyOf(id, columns)}] += downloads;
    }
    return pairs;
  }

  void ExpectCrossTabsExact() {
    const std::vector<std::pair<TrendDimension, TrendDimension>> dimensions = {
        {TrendDimension::kArchitecture, TrendDimension::kSize},
        {TrendDimension::kModality, TrendDimension::kSize},
        {TrendDimension::kTask, TrendDimension::kLibrary},
        {TrendDimension::kSize, TrendDimension::kModality}};
    for (const auto& [rows, columns] : dimensions) {
      for (const DayRange& range : {DayRange{}, DayRange{D("2024-09-16"), D("2024-09-16")},
                                    DayRange{D("2024-09-15"), D("2024-09-17")}}) {
        for (std::optional<Modality> modality :
             {std::optional<Modality>(), std::optional<Modality>(Modality::kNlp)}) {
          SCOPED_TRACE(absl::StrCat(TrendDimensionName(rows), " x ", TrendDimensionName(columns),
                                    " ", range.ToString(), modality ? " nlp" : ""));
          const bool sized = rows == TrendDimension::kSize || columns == TrendDimension::kSize;
          absl::StatusOr<Answer<CrossTab>> answer =
              service_->GetCrossTab({.range = range,
                                     .rows = rows,
                                     .columns = columns,
                                     .boundaries = sized ? kBoundaries : std::vector<int64_t>{},
                                     .modality = modality});
          ASSERT_TRUE(answer.ok()) << answer.status();
          const CrossTab& table = answer->value;
          auto want = Recount(range, rows, columns, modality);
          int64_t total = 0;
          for (size_t r = 0; r < table.rows.size(); ++r) {
            for (size_t c = 0; c < table.columns.size(); ++c) {
              const auto pair = std::make_pair(table.rows[r].key, table.columns[c].key);
              auto it = want.find(pair);
              EXPECT_EQ(table.cell(r, c).downloads, it == want.end() ? 0 : it->second)
                  << pair.first << " x " << pair.second;
              if (it != want.end()) want.erase(it);
              total += table.cell(r, c).downloads;
            }
          }
          EXPECT_TRUE(want.empty()) << "pairs missing from the answer: " << want.size();
          EXPECT_EQ(table.total_downloads, total);
          // Row totals are the one-dimension answers.
          if (rows == TrendDimension::kArchitecture || rows == TrendDimension::kTask) {
            absl::StatusOr<Answer<Breakdown>> breakdown = service_->GetBreakdown(
                range,
                rows == TrendDimension::kTask ? AggregateKind::kTask : AggregateKind::kArchitecture,
                modality);
            ASSERT_TRUE(breakdown.ok());
            ASSERT_EQ(breakdown->value.rows.size(), table.rows.size());
            for (size_t r = 0; r < table.rows.size(); ++r) {
              EXPECT_EQ(table.rows[r].key, breakdown->value.rows[r].key);
              EXPECT_EQ(table.rows[r].downloads, breakdown->value.rows[r].downloads);
            }
          }
          if (rows == TrendDimension::kSize) {
            absl::StatusOr<Answer<SizeDistribution>> sizes =
                service_->GetSizeDistribution(range, kBoundaries, modality);
            ASSERT_TRUE(sizes.ok());
            ASSERT_EQ(table.rows.size(), sizes->value.rows.size() + 1);
            for (size_t r = 0; r < sizes->value.rows.size(); ++r) {
              EXPECT_EQ(table.rows[r].downloads, sizes->value.rows[r].downloads);
            }
            EXPECT_EQ(table.rows.back().downloads, sizes->value.unknown_downloads);
          }
        }
      }
    }
  }
};

TEST_P(WalksTest, CrossTabEqualsAModelByModelRecount) {
  Populate(3);
  ExpectCrossTabsExact();
  // Models change class (size, task): their downloads move with them.
  Populate(4);
  ExpectCrossTabsExact();
}

TEST_P(WalksTest, CrossTabRefusesWhatItCannotAnswer) {
  auto field = [&](CrossTabQuery query) { return FieldOf(service_->GetCrossTab(query).status()); };
  EXPECT_EQ(field({.rows = TrendDimension::kTask, .columns = TrendDimension::kTask}), "columns");
  EXPECT_EQ(field({.rows = TrendDimension::kTopModels, .columns = TrendDimension::kSize}), "rows");
  EXPECT_EQ(field({.rows = TrendDimension::kTask,
                   .columns = TrendDimension::kLibrary,
                   .boundaries = {1'000'000'000}}),
            "boundaries");
  EXPECT_EQ(
      field(
          {.rows = TrendDimension::kTask, .columns = TrendDimension::kSize, .boundaries = {5, 5}}),
      "boundaries[1]");
  EXPECT_EQ(field({.range = {D("2024-09-18"), D("2024-09-17")}}), "range.end");
  // No downloads: the fixed keys with zeros, no open keys.
  absl::StatusOr<Answer<CrossTab>> empty =
      service_->GetCrossTab({.rows = TrendDimension::kModality, .columns = TrendDimension::kTask});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->value.total_downloads, 0);
  EXPECT_EQ(empty->value.rows.size(), 9u);
  EXPECT_TRUE(empty->value.columns.empty());
}

TEST_P(WalksTest, ExportHoldsEveryAdmittedModelInRankingOrder) {
  Populate(7);
  const std::vector<TopFilter> filters = {{},
                                          {.modality = Modality::kNlp},
                                          {.author = "org2"},
                                          {.task = "unknown"},
                                          {.library = "(none)", .min_parameters = 1'000'000'000},
                                          {.author = "nobody"}};
  for (const TopFilter& filter : filters) {
    for (const DayRange& range : {DayRange{}, DayRange{D("2024-09-16"), D("2024-09-17")}}) {
      SCOPED_TRACE(range.ToString());
      std::vector<std::pair<int64_t, std::string>> want;  // (-downloads, id): ranking order.
      int64_t total = 0;
      for (const auto& [id, days] : downloads_) {
        const int64_t downloads = DownloadsIn(id, range);
        if (downloads == 0 || !Admits(id, filter)) continue;
        want.emplace_back(-downloads, id);
        total += downloads;
      }
      std::sort(want.begin(), want.end());
      absl::StatusOr<Answer<ModelExport>> answer = service_->ExportModels(range, filter);
      ASSERT_TRUE(answer.ok()) << answer.status();
      const ModelExport& models = answer->value;
      ASSERT_EQ(models.size(), want.size());
      EXPECT_EQ(models.total_downloads(), total);
      // Read in pages of 3: the pages join up.
      std::vector<ExportedModel> rows;
      for (size_t begin = 0; begin < models.size(); begin += 3) {
        for (ExportedModel& row : models.Rows(begin, begin + 3)) rows.push_back(std::move(row));
      }
      ASSERT_EQ(rows.size(), want.size());
      for (size_t i = 0; i < rows.size(); ++i) {
        const ExportedModel& row = rows[i];
        const std::string& id = want[i].second;
        EXPECT_EQ(row.rank, static_cast<int64_t>(i) + 1);
        EXPECT_EQ(row.id, id);
        EXPECT_EQ(row.downloads, -want[i].first);
        EXPECT_EQ(row.author, AuthorOf(id));
        const ModelClass cls = ClassOf(id);
        EXPECT_EQ(row.modality, cls.modality);
        EXPECT_EQ(row.task, cls.task);
        EXPECT_EQ(row.architecture, cls.architecture);
        EXPECT_EQ(row.library, cls.library);
        EXPECT_EQ(row.catalogued, records_.contains(id));
        const int64_t parameters = ParametersOf(id);
        EXPECT_EQ(row.parameters, parameters == 0 ? std::nullopt : std::optional(parameters));
        EXPECT_EQ(row.size_class,
                  parameters == 0 ? "unknown" : FineBucketLabel(FineBucketOf(parameters)));
        EXPECT_DOUBLE_EQ(row.share_pct, SharePct(row.downloads, total));
      }
      EXPECT_TRUE(models.Rows(models.size(), models.size() + 3).empty());
    }
  }
}

TEST_P(WalksTest, AnExportStaysAtItsVersionWhileTheStoreMovesOn) {
  Populate(11);
  absl::StatusOr<Answer<ModelExport>> before = service_->ExportModels({}, {});
  ASSERT_TRUE(before.ok());
  const std::vector<ExportedModel> first = before->value.Rows(0, before->value.size());
  // New models, more downloads, and a reclassification after the export was made.
  Ingest({{"late/new-model", "2024-09-19", 100000, ""}, {"org1/m1", "2024-09-19", 5, ""}});
  Upsert({{.model_id = "org1/m1", .pipeline_tag = "image-classification"}});
  const std::vector<ExportedModel> again = before->value.Rows(0, before->value.size());
  ASSERT_EQ(again.size(), first.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(again[i].id, first[i].id);
    EXPECT_EQ(again[i].downloads, first[i].downloads);
    EXPECT_EQ(again[i].task, first[i].task);
  }
  absl::StatusOr<Answer<ModelExport>> after = service_->ExportModels({}, {});
  ASSERT_TRUE(after.ok());
  const bool m1_counted_before =
      std::any_of(first.begin(), first.end(), [](const auto& row) { return row.id == "org1/m1"; });
  EXPECT_EQ(after->value.size(), first.size() + (m1_counted_before ? 1 : 2));
  EXPECT_EQ(after->value.Rows(0, 1).front().id, "late/new-model");
  EXPECT_NE(after->as_of.versions, before->as_of.versions);
  EXPECT_EQ(FieldOf(service_->ExportModels({}, {.library = ""}).status()), "library");
}

INSTANTIATE_TEST_SUITE_P(Stores, WalksTest, ::testing::ValuesIn(test_support::AllStoreKinds()),
                         [](const ::testing::TestParamInfo<test_support::StoreKind>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace hubstats
