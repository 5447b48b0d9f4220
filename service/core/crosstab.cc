#include "core/crosstab.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "core/field_error.h"

namespace hubstats {
namespace {

absl::Status ValidateClassDimension(TrendDimension dimension, absl::string_view field) {
  if (dimension == TrendDimension::kTopModels || dimension == TrendDimension::kTopAuthors) {
    return InvalidFieldError(
        field, absl::StrCat("'", TrendDimensionName(dimension),
                            "' is not a cross-tab dimension (modality, size, task, architecture, "
                            "library)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateCrossTabDimensions(TrendDimension rows, TrendDimension columns) {
  if (absl::Status status = ValidateClassDimension(rows, "rows"); !status.ok()) return status;
  if (absl::Status status = ValidateClassDimension(columns, "columns"); !status.ok()) {
    return status;
  }
  if (rows == columns) {
    return InvalidFieldError(
        "columns", absl::StrCat("is '", TrendDimensionName(columns),
                                "' like rows; a cross-tab needs two different dimensions (for one "
                                "alone use the breakdown, modality share or size distribution)"));
  }
  return absl::OkStatus();
}

CrossTab ComputeCrossTab(absl::Span<const CrossCount> counts, TrendDimension rows,
                         TrendDimension columns, absl::Span<const int64_t> boundaries,
                         std::optional<Modality> modality) {
  CrossTab table;
  table.rows_dimension = rows;
  table.columns_dimension = columns;
  if (rows == TrendDimension::kSize || columns == TrendDimension::kSize) {
    table.boundaries.assign(boundaries.begin(), boundaries.end());
  }
  std::map<std::string, int64_t> row_sums, column_sums;
  for (const CrossCount& count : counts) {
    if (count.downloads == 0) continue;
    row_sums[count.row] += count.downloads;
    column_sums[count.column] += count.downloads;
    table.total_downloads += count.downloads;
  }
  std::map<std::string, size_t> row_at, column_at;
  for (std::string& key : KeysInOrder(rows, row_sums, boundaries, modality)) {
    row_at[key] = table.rows.size();
    table.rows.push_back({.key = std::move(key)});
  }
  for (std::string& key : KeysInOrder(columns, column_sums, boundaries, modality)) {
    column_at[key] = table.columns.size();
    table.columns.push_back({.key = std::move(key)});
  }
  table.cells.resize(table.rows.size() * table.columns.size());
  for (const CrossCount& count : counts) {
    if (count.downloads == 0) continue;
    // Every key with downloads has its place: KeysInOrder lists all of them.
    const size_t row = row_at.at(count.row);
    const size_t column = column_at.at(count.column);
    table.cells[row * table.columns.size() + column].downloads += count.downloads;
    table.rows[row].downloads += count.downloads;
    table.columns[column].downloads += count.downloads;
  }
  for (BreakdownRow& row : table.rows)
    row.share_pct = SharePct(row.downloads, table.total_downloads);
  for (BreakdownRow& column : table.columns) {
    column.share_pct = SharePct(column.downloads, table.total_downloads);
  }
  for (size_t r = 0; r < table.rows.size(); ++r) {
    for (size_t c = 0; c < table.columns.size(); ++c) {
      CrossTabCell& cell = table.cells[r * table.columns.size() + c];
      cell.share_pct = SharePct(cell.downloads, table.total_downloads);
      cell.row_share_pct = SharePct(cell.downloads, table.rows[r].downloads);
    }
  }
  return table;
}

}  // namespace hubstats
