// Cross-tab math: the downloads of every pair of keys of two class dimensions (architecture x
// size class, modality x size class, ...), with their shares, from exact per-pair counts.
//
// Each key's order is the one trends use (KeysInOrder), so a cross-tab's rows and columns read
// like the one-dimension answers; their totals equal those answers.
//
// Pure functions; thread-safe.
#ifndef HUBSTATS_SERVICE_CORE_CROSSTAB_H_
#define HUBSTATS_SERVICE_CORE_CROSSTAB_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "core/modality.h"
#include "core/stats.h"
#include "core/trend.h"

namespace hubstats {

// OK for two different class dimensions (modality, size, task, architecture, library);
// INVALID_ARGUMENT naming "rows" or "columns" otherwise.
absl::Status ValidateCrossTabDimensions(TrendDimension rows, TrendDimension columns);

// The downloads of one (row key, column key) pair.
struct CrossCount {
  std::string row;
  std::string column;
  int64_t downloads = 0;
};

struct CrossTabCell {
  int64_t downloads = 0;
  double share_pct = 0;      // Of the cross-tab's total.
  double row_share_pct = 0;  // Of its row's downloads.
};

struct CrossTab {
  TrendDimension rows_dimension = TrendDimension::kArchitecture;
  TrendDimension columns_dimension = TrendDimension::kSize;
  int64_t total_downloads = 0;
  std::vector<BreakdownRow> rows;  // Keys in KeysInOrder order, with their totals.
  std::vector<BreakdownRow> columns;
  // rows.size() x columns.size(), row by row.
  std::vector<CrossTabCell> cells;
  std::vector<int64_t> boundaries;  // When a dimension is the size.

  const CrossTabCell& cell(size_t row, size_t column) const {
    return cells[row * columns.size() + column];
  }
};

// `counts`: the downloads per pair (each pair at most once; zero pairs may be left out), keys
// as the dimensions name them. The dimensions must be valid (ValidateCrossTabDimensions);
// `boundaries` valid when one is the size; `modality` narrows the modality dimension's keys to
// it (the counts must already be of that modality only).
CrossTab ComputeCrossTab(absl::Span<const CrossCount> counts, TrendDimension rows,
                         TrendDimension columns, absl::Span<const int64_t> boundaries,
                         std::optional<Modality> modality);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_CORE_CROSSTAB_H_
