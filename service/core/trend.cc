#include "core/trend.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/field_error.h"

namespace hubstats {
namespace {

constexpr TrendDimension kDimensions[] = {TrendDimension::kModality,  TrendDimension::kSize,
                                          TrendDimension::kTask,      TrendDimension::kArchitecture,
                                          TrendDimension::kLibrary,   TrendDimension::kTopModels,
                                          TrendDimension::kTopAuthors};

// One period's rows as (key, downloads), made by the single-range math.
std::vector<std::pair<std::string, int64_t>> PeriodRows(
    const AggregateCounts& counts, TrendDimension dimension, absl::Span<const int64_t> boundaries,
    std::optional<Modality> modality, absl::Span<const int64_t> below, int64_t& total) {
  std::vector<std::pair<std::string, int64_t>> rows;
  switch (dimension) {
    case TrendDimension::kModality: {
      const ModalityShare share = ComputeModalityShare(counts);
      total = share.total_downloads;
      for (const ModalityShareRow& row : share.rows) {
        if (modality && row.modality != *modality) continue;
        rows.emplace_back(std::string(ModalityName(row.modality)), row.downloads);
      }
      if (modality) total = rows.empty() ? 0 : rows.front().second;
      break;
    }
    case TrendDimension::kSize: {
      const SizeDistribution sizes = ComputeSizeDistribution(counts, boundaries, modality, below);
      total = sizes.total_downloads;
      for (const SizeRow& row : sizes.rows) rows.emplace_back(row.size_class.label, row.downloads);
      rows.emplace_back(std::string(kUnknownKey), sizes.unknown_downloads);
      break;
    }
    case TrendDimension::kTask:
    case TrendDimension::kArchitecture:
    case TrendDimension::kLibrary: {
      const AggregateKind kind = dimension == TrendDimension::kTask ? AggregateKind::kTask
                                 : dimension == TrendDimension::kArchitecture
                                     ? AggregateKind::kArchitecture
                                     : AggregateKind::kLibrary;
      const Breakdown breakdown = ComputeBreakdown(counts, kind, modality);
      total = breakdown.total_downloads;
      for (const BreakdownRow& row : breakdown.rows) rows.emplace_back(row.key, row.downloads);
      break;
    }
    case TrendDimension::kTopModels:
    case TrendDimension::kTopAuthors:
      break;
  }
  return rows;
}

}  // namespace

absl::string_view TrendDimensionName(TrendDimension dimension) {
  switch (dimension) {
    case TrendDimension::kModality:
      return "modality";
    case TrendDimension::kSize:
      return "size";
    case TrendDimension::kTask:
      return "task";
    case TrendDimension::kArchitecture:
      return "architecture";
    case TrendDimension::kLibrary:
      return "library";
    case TrendDimension::kTopModels:
      return "top-models";
    case TrendDimension::kTopAuthors:
      return "top-authors";
  }
  return "modality";
}

absl::StatusOr<TrendDimension> ParseTrendDimension(absl::string_view text,
                                                   absl::string_view field) {
  std::vector<absl::string_view> names;
  for (TrendDimension dimension : kDimensions) {
    if (text == TrendDimensionName(dimension)) return dimension;
    names.push_back(TrendDimensionName(dimension));
  }
  return InvalidFieldError(field, absl::StrCat("'", text, "' is not a trend dimension (",
                                               absl::StrJoin(names, ", "), ")"));
}

std::vector<std::string> KeysInOrder(TrendDimension dimension,
                                     const std::map<std::string, int64_t>& sums,
                                     absl::Span<const int64_t> boundaries,
                                     std::optional<Modality> modality) {
  std::vector<std::string> keys;
  auto sum = [&](absl::string_view key) {
    auto it = sums.find(std::string(key));
    return it == sums.end() ? int64_t{0} : it->second;
  };
  if (dimension == TrendDimension::kModality) {
    std::vector<Modality> order;
    for (Modality m : AllModalities()) {
      if (!modality || m == *modality) order.push_back(m);
    }
    std::stable_sort(order.begin(), order.end(), [&](Modality a, Modality b) {
      return sum(ModalityName(a)) > sum(ModalityName(b));
    });
    for (Modality m : order) keys.emplace_back(ModalityName(m));
  } else if (dimension == TrendDimension::kSize) {
    for (const SizeClass& size_class : SizeClassesFor(boundaries)) {
      keys.push_back(size_class.label);
    }
    keys.emplace_back(kUnknownKey);
  } else {
    // `sums` is in key order, so a stable sort leaves ties by key.
    std::vector<std::pair<std::string, int64_t>> order(sums.begin(), sums.end());
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (auto& [key, downloads] : order) keys.push_back(std::move(key));
  }
  return keys;
}

std::string TopKey(int n) { return absl::StrCat("top ", n); }

Trend ComputeAggregateTrend(const std::vector<Period>& periods,
                            absl::Span<const AggregateCounts> counts, TrendDimension dimension,
                            absl::Span<const int64_t> boundaries, std::optional<Modality> modality,
                            Granularity granularity, absl::Span<const std::vector<int64_t>> below) {
  Trend trend;
  trend.granularity = granularity;
  trend.dimension = dimension;
  if (dimension == TrendDimension::kSize)
    trend.boundaries.assign(boundaries.begin(), boundaries.end());
  std::vector<std::vector<std::pair<std::string, int64_t>>> rows(periods.size());
  std::vector<int64_t> totals(periods.size());
  std::map<std::string, int64_t> sums;  // Key -> downloads over the range.
  for (size_t i = 0; i < periods.size(); ++i) {
    rows[i] = PeriodRows(
        counts[i], dimension, boundaries, modality,
        i < below.size() ? absl::Span<const int64_t>(below[i]) : absl::Span<const int64_t>(),
        totals[i]);
    for (const auto& [key, downloads] : rows[i]) sums[key] += downloads;
  }
  trend.keys = KeysInOrder(dimension, sums, boundaries, modality);
  std::map<std::string, size_t> column;
  for (size_t k = 0; k < trend.keys.size(); ++k) column[trend.keys[k]] = k;
  for (size_t i = 0; i < periods.size(); ++i) {
    TrendPeriod& period = trend.periods.emplace_back();
    period.period = periods[i];
    period.total_downloads = totals[i];
    period.downloads.assign(trend.keys.size(), 0);
    for (const auto& [key, downloads] : rows[i]) period.downloads[column[key]] += downloads;
    for (int64_t downloads : period.downloads) {
      period.share_pct.push_back(SharePct(downloads, period.total_downloads));
    }
  }
  return trend;
}

Trend ComputeConcentrationTrend(const std::vector<Period>& periods,
                                absl::Span<const PeriodTop> tops, TrendDimension dimension, int n,
                                Granularity granularity) {
  Trend trend;
  trend.granularity = granularity;
  trend.dimension = dimension;
  trend.keys = {TopKey(n), std::string(kRestKey)};
  for (size_t i = 0; i < periods.size(); ++i) {
    const TopN top = ComputeTopN(tops[i].ranked, static_cast<size_t>(n), tops[i].total_downloads);
    TrendPeriod& period = trend.periods.emplace_back();
    period.period = periods[i];
    period.total_downloads = top.total_downloads;
    period.downloads = {top.top_downloads, top.total_downloads - top.top_downloads};
    period.share_pct = {top.top_share_pct, SharePct(period.downloads[1], period.total_downloads)};
  }
  return trend;
}

}  // namespace hubstats
