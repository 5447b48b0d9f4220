// Trend math: per-period rows of one dimension, from each period's exact counters.
//
// Each period's figures are made by the same functions as the single-range queries
// (core/stats.h), so a trend's period equals the range query over that period's days. The
// keys are the union over the periods, in a fixed order, with zeros where a period has none.
//
// Pure functions; thread-safe.
#ifndef HUBSTATS_SERVICE_CORE_TREND_H_
#define HUBSTATS_SERVICE_CORE_TREND_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "core/modality.h"
#include "core/model_class.h"
#include "core/period.h"
#include "core/stats.h"

namespace hubstats {

enum class TrendDimension {
  kModality,
  kSize,
  kTask,
  kArchitecture,
  kLibrary,
  kTopModels,
  kTopAuthors
};

// "modality", "size", "task", "architecture", "library", "top-models", "top-authors".
absl::string_view TrendDimensionName(TrendDimension dimension);
// INVALID_ARGUMENT (field `field`) naming the accepted names for anything else.
absl::StatusOr<TrendDimension> ParseTrendDimension(absl::string_view text,
                                                   absl::string_view field = "dimension");

// The keys of a class dimension (not a concentration) in their fixed order, given each key's
// downloads over the whole answer (`sums`; keys absent count as 0): modalities every one (only
// `modality` when given), downloads descending, ties in enum order; size classes of
// `boundaries` smallest first, then "unknown"; task, architecture and library the keys of
// `sums`, downloads descending, ties by key. Trends and cross-tabs order their keys so.
std::vector<std::string> KeysInOrder(TrendDimension dimension,
                                     const std::map<std::string, int64_t>& sums,
                                     absl::Span<const int64_t> boundaries,
                                     std::optional<Modality> modality);

// The most periods one trend answers (about 2.7 years of days).
inline constexpr int64_t kMaxTrendPeriods = 1000;

// The concentration keys: "top <n>" and kRestKey.
std::string TopKey(int n);
inline constexpr absl::string_view kRestKey = "rest";

struct TrendPeriod {
  Period period;
  int64_t total_downloads = 0;
  std::vector<int64_t> downloads;  // One per Trend::keys.
  std::vector<double> share_pct;   // Of total_downloads.
};

struct Trend {
  Granularity granularity = Granularity::kMonth;
  TrendDimension dimension = TrendDimension::kModality;
  std::vector<std::string> keys;
  std::vector<TrendPeriod> periods;
  std::vector<int64_t> boundaries;  // kSize only.
};

// `counts[i]` holds periods[i]'s counters (with `dimension`'s when not size or modality);
// `boundaries` (kSize) must be valid, and `below[i]` is periods[i]'s ComputeSizeDistribution
// `below` (empty when every boundary is on the size grid). `dimension` is not a concentration.
Trend ComputeAggregateTrend(const std::vector<Period>& periods,
                            absl::Span<const AggregateCounts> counts, TrendDimension dimension,
                            absl::Span<const int64_t> boundaries, std::optional<Modality> modality,
                            Granularity granularity,
                            absl::Span<const std::vector<int64_t>> below = {});

// One period's top candidates: the ranked members (at least the first n) and the whole.
struct PeriodTop {
  std::vector<RankedEntry> ranked;
  int64_t total_downloads = 0;
};
// kTopModels or kTopAuthors; n >= 1.
Trend ComputeConcentrationTrend(const std::vector<Period>& periods,
                                absl::Span<const PeriodTop> tops, TrendDimension dimension, int n,
                                Granularity granularity);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_CORE_TREND_H_
