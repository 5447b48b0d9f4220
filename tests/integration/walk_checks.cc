#include "walk_checks.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "hubstats/v1/hubstats.grpc.pb.h"

namespace hubstats::integration {
namespace {

// A model's key in a cross-tab dimension. Size classes are numbered (0 .. boundaries, then
// unknown) and named after the server's row order, which the check also verifies.
std::string DimensionKey(const Truth& truth, const std::string& model, v1::Dimension dimension,
                         const std::vector<int64_t>& boundaries) {
  switch (dimension) {
    case v1::DIMENSION_MODALITY:
      return truth.Modality(model);
    case v1::DIMENSION_SIZE: {
      const int64_t parameters = truth.Parameters(model);
      if (parameters == 0) return "#unknown";
      return absl::StrCat("#", std::upper_bound(boundaries.begin(), boundaries.end(), parameters) -
                                   boundaries.begin());
    }
    default:
      return truth.Key(model, dimension);
  }
}

void CheckCrossTab(test_support::Connection& connection, const Truth& truth, const Range& range,
                   v1::Dimension rows, v1::Dimension columns, std::vector<int64_t> boundaries,
                   const std::string& modality) {
  SCOPED_TRACE(absl::StrCat("crosstab ", v1::Dimension_Name(rows), " x ",
                            v1::Dimension_Name(columns), " modality '", modality, "'"));
  v1::CrossTabRequest request;
  WithRange(range, request);
  request.set_rows(rows);
  request.set_columns(columns);
  for (int64_t boundary : boundaries) request.add_boundaries(boundary);
  if (!modality.empty()) request.set_modality(ModalityEnum(modality));
  v1::CrossTabResponse response;
  grpc::ClientContext context;
  const grpc::Status status = connection.query->GetCrossTab(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();

  const bool sized = rows == v1::DIMENSION_SIZE || columns == v1::DIMENSION_SIZE;
  if (sized && boundaries.empty()) boundaries = {200'000'000, 500'000'000, 1'000'000'000};
  std::map<std::pair<std::string, std::string>, int64_t> expected;
  std::map<std::string, int64_t> row_totals, column_totals;
  int64_t total = 0;
  for (const auto& [model, downloads] : truth.PerModel(range)) {
    if (!modality.empty() && truth.Modality(model) != modality) continue;
    const std::string row = DimensionKey(truth, model, rows, boundaries);
    const std::string column = DimensionKey(truth, model, columns, boundaries);
    expected[{row, column}] += downloads;
    row_totals[row] += downloads;
    column_totals[column] += downloads;
    total += downloads;
  }
  EXPECT_EQ(response.total_downloads(), total);
  if (sized) {
    EXPECT_EQ(std::vector<int64_t>(response.boundaries().begin(), response.boundaries().end()),
              boundaries);
  }

  // The server's keys, translated to the recount's: size classes by position.
  auto our_keys = [&](v1::Dimension dimension,
                      const google::protobuf::RepeatedPtrField<v1::BreakdownRow>& keys,
                      const std::map<std::string, int64_t>& totals) {
    std::vector<std::string> ours;
    for (int k = 0; k < keys.size(); ++k) {
      if (dimension != v1::DIMENSION_SIZE) {
        ours.push_back(keys[k].key());
      } else {
        ours.push_back(k + 1 == keys.size() ? "#unknown" : absl::StrCat("#", k));
      }
    }
    if (dimension == v1::DIMENSION_SIZE) {
      EXPECT_EQ(keys.size(), static_cast<int>(boundaries.size()) + 2);
      EXPECT_EQ(keys[keys.size() - 1].key(), "unknown");
    } else if (dimension == v1::DIMENSION_MODALITY) {
      EXPECT_EQ(keys.size(), modality.empty() ? 9 : 1);  // All nine, or the filter's.
    } else {
      EXPECT_EQ(keys.size(), static_cast<int>(totals.size()));  // The keys with downloads.
    }
    for (int k = 0; k < keys.size(); ++k) {
      auto it = totals.find(ours[k]);
      EXPECT_EQ(keys[k].downloads(), it == totals.end() ? 0 : it->second) << ours[k];
      EXPECT_NEAR(keys[k].share_pct(), Share(keys[k].downloads(), total), 1e-9);
      if (k > 0 && dimension != v1::DIMENSION_SIZE) {
        EXPECT_GE(keys[k - 1].downloads(), keys[k].downloads()) << "order at " << ours[k];
      }
    }
    return ours;
  };
  const std::vector<std::string> row_keys = our_keys(rows, response.rows(), row_totals);
  const std::vector<std::string> column_keys = our_keys(columns, response.columns(), column_totals);
  ASSERT_EQ(response.cells_size(), response.rows_size() * response.columns_size());
  int64_t sum = 0;
  for (int r = 0; r < response.rows_size(); ++r) {
    for (int c = 0; c < response.columns_size(); ++c) {
      const v1::CrossTabCell& cell = response.cells(r * response.columns_size() + c);
      EXPECT_EQ(cell.row(), response.rows(r).key());
      EXPECT_EQ(cell.column(), response.columns(c).key());
      auto it = expected.find({row_keys[r], column_keys[c]});
      EXPECT_EQ(cell.downloads(), it == expected.end() ? 0 : it->second)
          << row_keys[r] << " x " << column_keys[c];
      EXPECT_NEAR(cell.share_pct(), Share(cell.downloads(), total), 1e-9);
      EXPECT_NEAR(cell.row_share_pct(), Share(cell.downloads(), response.rows(r).downloads()),
                  1e-9);
      sum += cell.downloads();
    }
  }
  EXPECT_EQ(sum, total);  // No pair of the recount is missing from the keys.
}

struct ExportFilter {
  std::string modality, author;
  std::optional<int64_t> min_parameters;
};

void CheckExport(test_support::Connection& connection, const Truth& truth, const Range& range,
                 const ExportFilter& filter, int chunk_size) {
  SCOPED_TRACE(absl::StrCat("export modality '", filter.modality, "' author '", filter.author,
                            "' min ", filter.min_parameters.value_or(0), " chunk ", chunk_size));
  v1::ExportRequest request;
  WithRange(range, request);
  request.set_chunk_size(chunk_size);
  if (!filter.modality.empty()) request.set_modality(ModalityEnum(filter.modality));
  request.set_author(filter.author);
  if (filter.min_parameters) request.set_min_parameters(*filter.min_parameters);

  std::vector<std::pair<int64_t, std::string>> ranked;  // (-downloads, id)
  int64_t total = 0;
  for (const auto& [model, downloads] : truth.PerModel(range)) {
    if (!filter.modality.empty() && truth.Modality(model) != filter.modality) continue;
    if (!filter.author.empty() && AuthorOfId(model) != filter.author) continue;
    const int64_t parameters = truth.Parameters(model);
    if (filter.min_parameters && (parameters == 0 || parameters < *filter.min_parameters)) {
      continue;
    }
    ranked.push_back({-downloads, model});
    total += downloads;
  }
  std::sort(ranked.begin(), ranked.end());

  grpc::ClientContext context;
  auto reader = connection.query->ExportModels(&context, request);
  v1::ExportChunk chunk;
  std::vector<v1::ExportChunk> chunks;
  size_t next = 0;
  while (reader->Read(&chunk)) {
    EXPECT_EQ(chunk.total_models(), static_cast<int64_t>(ranked.size()));
    EXPECT_EQ(chunk.total_downloads(), total);
    if (!chunks.empty()) {
      EXPECT_EQ(chunk.as_of().version(), chunks[0].as_of().version());
    }
    for (const v1::ExportedModel& model : chunk.models()) {
      ASSERT_LT(next, ranked.size()) << "more models than the recount";
      const std::string& id = ranked[next].second;
      EXPECT_EQ(model.rank(), static_cast<int64_t>(next + 1));
      EXPECT_EQ(model.model_id(), id) << "rank " << next + 1;
      EXPECT_EQ(model.downloads(), -ranked[next].first) << id;
      EXPECT_NEAR(model.share_pct(), Share(model.downloads(), total), 1e-9);
      EXPECT_EQ(model.author(), AuthorOfId(id));
      EXPECT_EQ(model.modality(), truth.Modality(id));
      EXPECT_EQ(model.task(), truth.Key(id, v1::DIMENSION_TASK));
      EXPECT_EQ(model.architecture(), truth.Key(id, v1::DIMENSION_ARCHITECTURE));
      EXPECT_EQ(model.library(), truth.Key(id, v1::DIMENSION_LIBRARY));
      EXPECT_EQ(model.catalogued(), truth.catalog.contains(id));
      EXPECT_EQ(model.has_num_parameters(), truth.Parameters(id) != 0) << id;
      if (model.has_num_parameters()) {
        EXPECT_EQ(model.num_parameters(), truth.Parameters(id));
      }
      EXPECT_EQ(model.size_class() == "unknown", truth.Parameters(id) == 0) << id;
      ++next;
    }
    chunks.push_back(chunk);
  }
  const grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(next, ranked.size());
  // Full chunks but the last; an empty export is one empty chunk.
  ASSERT_EQ(chunks.size(), std::max<size_t>(1, (ranked.size() + chunk_size - 1) / chunk_size));
  for (size_t i = 0; i + 1 < chunks.size(); ++i) EXPECT_EQ(chunks[i].models_size(), chunk_size);
}

}  // namespace

void CheckCrossTabs(test_support::Connection& connection, const Truth& truth, const Range& range) {
  for (const std::string modality : {"", "nlp"}) {
    CheckCrossTab(connection, truth, range, v1::DIMENSION_MODALITY, v1::DIMENSION_SIZE, {},
                  modality);
    CheckCrossTab(connection, truth, range, v1::DIMENSION_ARCHITECTURE, v1::DIMENSION_LIBRARY, {},
                  modality);
  }
  // Off-grid boundaries split fine buckets by the models' own counts.
  CheckCrossTab(connection, truth, range, v1::DIMENSION_SIZE, v1::DIMENSION_TASK,
                {7'000'000'000, 13'000'000'000}, "");
}

void CheckExports(test_support::Connection& connection, const Truth& truth, const Range& range) {
  CheckExport(connection, truth, range, {}, 97);
  CheckExport(connection, truth, range, {.modality = "nlp"}, 1000);
  std::map<std::string, int64_t> authors;
  for (const auto& [model, downloads] : truth.PerModel(range)) authors[AuthorOfId(model)] += 1;
  if (!authors.empty()) {
    CheckExport(connection, truth, range, {.author = authors.begin()->first}, 2);
  }
  CheckExport(connection, truth, range, {.min_parameters = 1'000'000'000}, 10);
}

}  // namespace hubstats::integration
