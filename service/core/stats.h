// Stats math: turns exact counters into the rows every query returns.
//
// Pure functions over integers; shares are computed once, as part * 100.0 / whole, from exact
// integer sums (cumulative shares from cumulative integer sums), so they never drift.
#ifndef HUBSTATS_SERVICE_CORE_STATS_H_
#define HUBSTATS_SERVICE_CORE_STATS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "core/modality.h"
#include "core/model_class.h"
#include "core/size_class.h"

namespace hubstats {

// part * 100.0 / whole; 0 when whole is 0.
double SharePct(int64_t part, int64_t whole);

// Sum of the size counters (every download is in exactly one), optionally of one modality.
int64_t TotalDownloads(const AggregateCounts& counts, std::optional<Modality> modality = {});

struct ModalityShareRow {
  Modality modality;
  int64_t downloads = 0;
  double share_pct = 0;
};
struct ModalityShare {
  int64_t total_downloads = 0;
  std::vector<ModalityShareRow> rows;  // All nine; downloads descending, ties in enum order.
};
ModalityShare ComputeModalityShare(const AggregateCounts& counts);

struct SizeRow {
  SizeClass size_class;
  int64_t downloads = 0;
  double share_pct = 0;
  double share_of_known_pct = 0;
  double cumulative_pct = 0;
};
struct SizeDistribution {
  int64_t total_downloads = 0;
  int64_t known_downloads = 0;
  int64_t unknown_downloads = 0;
  double unknown_share_pct = 0;
  std::vector<int64_t> boundaries;
  std::vector<SizeRow> rows;  // Known-size classes, smallest first.
};
// `boundaries` must be valid (ValidateBoundaries). `below[i]`, for each boundary off the size
// grid, is the downloads (of `modality`, when given) of the models in the fine bucket holding
// boundaries[i] whose parameter count is below it; on-grid boundaries need none (empty `below`:
// every boundary is on the grid).
SizeDistribution ComputeSizeDistribution(const AggregateCounts& counts,
                                         absl::Span<const int64_t> boundaries,
                                         std::optional<Modality> modality,
                                         absl::Span<const int64_t> below = {});

struct BreakdownRow {
  std::string key;
  int64_t downloads = 0;
  double share_pct = 0;
};
struct Breakdown {
  int64_t total_downloads = 0;
  std::vector<BreakdownRow> rows;  // Downloads descending, ties by key ascending; no zero rows.
};
// `dimension` is kTask, kArchitecture or kLibrary.
Breakdown ComputeBreakdown(const AggregateCounts& counts, AggregateKind dimension,
                           std::optional<Modality> modality);

struct RankedEntry {
  std::string id;
  int64_t downloads = 0;
  bool operator==(const RankedEntry&) const = default;
};
// Downloads descending, then id ascending (byte order): the order of every ranking.
bool RanksBefore(const RankedEntry& a, const RankedEntry& b);
// Sorts `entries` into ranking order and keeps the first n.
void KeepTop(std::vector<RankedEntry>& entries, size_t n);

struct TopRow {
  int rank = 0;
  std::string id;
  int64_t downloads = 0;
  double share_pct = 0;
  double cumulative_pct = 0;
};
struct TopN {
  int64_t total_downloads = 0;
  int64_t top_downloads = 0;
  double top_share_pct = 0;
  std::vector<TopRow> rows;
};
// `ranked` is in ranking order (at most n entries kept).
TopN ComputeTopN(std::vector<RankedEntry> ranked, size_t n, int64_t total_downloads);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_CORE_STATS_H_
