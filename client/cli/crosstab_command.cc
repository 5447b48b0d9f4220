// The crosstab command: downloads split by two dimensions at once (GetCrossTab), as JSON or as
// a table of each row's split ("of decoder downloads, 40% are <1B").
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "command.h"
#include "core/stats.h"
#include "output.h"
#include "query.h"

namespace hubstats::cli {
namespace {

// The table shows at most this many rows and columns; the rest are summed into "others"
// (--json has every cell).
constexpr int kShownRows = 20;
constexpr int kShownColumns = 8;

v1::Dimension DimensionOption(const Options& options, const std::string& name) {
  const std::string value = Option(options, name);
  if (value == "modality") return v1::DIMENSION_MODALITY;
  if (value == "size") return v1::DIMENSION_SIZE;
  if (value == "task") return v1::DIMENSION_TASK;
  if (value == "architecture") return v1::DIMENSION_ARCHITECTURE;
  if (value == "library") return v1::DIMENSION_LIBRARY;
  UsageError(absl::StrCat("crosstab needs --", name,
                          " modality, size, task, architecture or library",
                          value.empty() ? "" : absl::StrCat(", got '", value, "'")));
}

void WriteKeys(JsonWriter& json, absl::string_view name,
               const google::protobuf::RepeatedPtrField<v1::BreakdownRow>& keys) {
  json.Key(name).BeginArray();
  for (const auto& key : keys) {
    json.BeginObject().Key("key").String(key.key()).Key("downloads").Int(key.downloads());
    json.Key("share_pct").Double(key.share_pct()).EndObject();
  }
  json.EndArray();
}

}  // namespace

int RunCrossTab(const Options& options) {
  NoArguments(options);
  Query query(options, {"from", "to", "rows", "columns", "boundaries", "modality"});
  v1::CrossTabRequest request;
  request.set_rows(DimensionOption(options, "rows"));
  request.set_columns(DimensionOption(options, "columns"));
  if (request.rows() == request.columns()) {
    UsageError(
        absl::StrCat("--rows and --columns must differ, both are ", Option(options, "rows")));
  }
  request.set_modality(ModalityOption(options));
  AddBoundaries(options, request.mutable_boundaries());
  const auto response =
      query.Call(&v1::QueryService::Stub::GetCrossTab, std::move(request), "crosstab");
  if (query.json()) {
    JsonWriter json;
    json.BeginObject().Key("total_downloads").Int(response.total_downloads());
    WriteKeys(json, "rows", response.rows());
    WriteKeys(json, "columns", response.columns());
    json.Key("boundaries").BeginArray();
    for (int64_t boundary : response.boundaries()) json.Int(boundary);
    json.EndArray().Key("cells").BeginArray();
    for (const auto& cell : response.cells()) {
      json.BeginObject().Key("row").String(cell.row()).Key("column").String(cell.column());
      json.Key("downloads").Int(cell.downloads()).Key("share_pct").Double(cell.share_pct());
      json.Key("row_share_pct").Double(cell.row_share_pct()).EndObject();
    }
    json.EndArray().EndObject();
    return query.PrintJson(json);
  }
  if (response.cells_size() != response.rows_size() * response.columns_size()) {
    Failure(absl::StrCat("crosstab from ", query.connection().target(), " has ",
                         response.cells_size(), " cells for ", response.rows_size(), " rows and ",
                         response.columns_size(), " columns"));
  }
  const std::string scope = ModalityScope(options);
  if (query.ReportedEmpty(response.total_downloads(), scope)) return 0;
  // Keys come with downloads descending (sizes smallest first), so the first ones shown are
  // the ones that matter; keys without downloads are left out of the table.
  auto shown = [](const auto& keys, int limit) {
    std::vector<int> indices;
    for (int k = 0; k < keys.size() && static_cast<int>(indices.size()) < limit + 1; ++k) {
      if (keys[k].downloads() > 0) indices.push_back(k);
    }
    return indices;
  };
  std::vector<int> rows = shown(response.rows(), kShownRows);
  std::vector<int> columns = shown(response.columns(), kShownColumns);
  int64_t rows_with_downloads = 0, columns_with_downloads = 0;
  for (const auto& row : response.rows()) rows_with_downloads += row.downloads() > 0;
  for (const auto& column : response.columns()) columns_with_downloads += column.downloads() > 0;
  const bool other_rows = rows_with_downloads > kShownRows;
  const bool other_columns = columns_with_downloads > kShownColumns;
  if (other_rows) rows.resize(kShownRows);
  if (other_columns) columns.resize(kShownColumns);

  const int width = response.columns_size();
  std::vector<std::string> header = {Option(options, "rows"), "downloads", "share"};
  std::vector<bool> right = {false, true, true};
  for (int c : columns) {
    header.push_back(response.columns(c).key());
    right.push_back(true);
  }
  if (other_columns) {
    header.push_back("others");
    right.push_back(true);
  }
  Table table(header, right);
  // One line of the table: a row's downloads, its share of the total and its split over the
  // shown columns; `cells(c)` gives its downloads in column c.
  auto add_line = [&](const std::string& label, int64_t downloads, auto cells) {
    std::vector<std::string> line = {label, GroupThousands(downloads),
                                     Percent(SharePct(downloads, response.total_downloads()))};
    int64_t rest = downloads;
    for (int c : columns) {
      line.push_back(Percent(SharePct(cells(c), downloads)));
      rest -= cells(c);
    }
    if (other_columns) line.push_back(Percent(SharePct(rest, downloads)));
    table.AddRow(std::move(line));
  };
  int64_t rest_downloads = response.total_downloads();
  for (int r : rows) {
    add_line(response.rows(r).key(), response.rows(r).downloads(),
             [&](int c) { return response.cells(r * width + c).downloads(); });
    rest_downloads -= response.rows(r).downloads();
  }
  if (other_rows) {
    add_line("others", rest_downloads, [&](int c) {
      int64_t sum = response.columns(c).downloads();
      for (int r : rows) sum -= response.cells(r * width + c).downloads();
      return sum;
    });
  }
  add_line("total", response.total_downloads(),
           [&](int c) { return response.columns(c).downloads(); });
  std::printf("Downloads by %s and %s (%s%s): each row's split by %s\n\n%s",
              Option(options, "rows").c_str(), Option(options, "columns").c_str(),
              RangeLabel(options).c_str(), scope.c_str(), Option(options, "columns").c_str(),
              table.Render().c_str());
  return 0;
}

}  // namespace hubstats::cli
