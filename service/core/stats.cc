#include "core/stats.h"

#include <algorithm>
#include <array>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"

namespace hubstats {

double SharePct(int64_t part, int64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) * 100.0 / static_cast<double>(whole);
}

int64_t TotalDownloads(const AggregateCounts& counts, std::optional<Modality> modality) {
  int64_t total = 0;
  for (const auto& [name, downloads] : counts) {
    std::optional<ParsedAggregateField> field = ParseAggregateField(name);
    if (field && field->kind == AggregateKind::kSize &&
        (!modality || field->modality == *modality)) {
      total += downloads;
    }
  }
  return total;
}

ModalityShare ComputeModalityShare(const AggregateCounts& counts) {
  std::array<int64_t, kModalityCount> by_modality{};
  for (const auto& [name, downloads] : counts) {
    std::optional<ParsedAggregateField> field = ParseAggregateField(name);
    if (field && field->kind == AggregateKind::kSize) {
      by_modality[static_cast<size_t>(field->modality)] += downloads;
    }
  }
  ModalityShare share;
  for (int64_t downloads : by_modality) share.total_downloads += downloads;
  for (Modality modality : AllModalities()) {
    const int64_t downloads = by_modality[static_cast<size_t>(modality)];
    share.rows.push_back({modality, downloads, SharePct(downloads, share.total_downloads)});
  }
  std::stable_sort(share.rows.begin(), share.rows.end(),
                   [](const ModalityShareRow& a, const ModalityShareRow& b) {
                     return a.downloads > b.downloads;
                   });
  return share;
}

SizeDistribution ComputeSizeDistribution(const AggregateCounts& counts,
                                         absl::Span<const int64_t> boundaries,
                                         std::optional<Modality> modality,
                                         absl::Span<const int64_t> below) {
  std::array<int64_t, kFineBucketCount> by_bucket{};
  SizeDistribution result;
  for (const auto& [name, downloads] : counts) {
    std::optional<ParsedAggregateField> field = ParseAggregateField(name);
    if (!field || field->kind != AggregateKind::kSize) continue;
    if (modality && field->modality != *modality) continue;
    int bucket = 0;
    if (field->value == "u" || !absl::SimpleAtoi(field->value, &bucket) || bucket < 0 ||
        bucket >= kFineBucketCount) {
      result.unknown_downloads += downloads;
    } else {
      by_bucket[bucket] += downloads;
      result.known_downloads += downloads;
    }
  }
  result.total_downloads = result.known_downloads + result.unknown_downloads;
  result.unknown_share_pct = SharePct(result.unknown_downloads, result.total_downloads);
  result.boundaries.assign(boundaries.begin(), boundaries.end());
  // Known downloads below each boundary: the fine buckets entirely below it, plus, for a
  // boundary inside a bucket, that bucket's part below it. Classes are the differences.
  std::vector<int64_t> below_boundary;
  for (size_t i = 0; i < boundaries.size(); ++i) {
    const int bucket = FineBucketOf(boundaries[i]);
    int64_t downloads = 0;
    for (int j = 0; j < bucket; ++j) downloads += by_bucket[j];
    if (!OnSizeGrid(boundaries[i]) && i < below.size()) downloads += below[i];
    below_boundary.push_back(downloads);
  }
  below_boundary.push_back(result.known_downloads);
  int64_t cumulative = 0;
  size_t index = 0;
  for (SizeClass& size_class : SizeClassesFor(boundaries)) {
    SizeRow row;
    row.downloads = below_boundary[index] - cumulative;
    ++index;
    cumulative += row.downloads;
    row.share_pct = SharePct(row.downloads, result.total_downloads);
    row.share_of_known_pct = SharePct(row.downloads, result.known_downloads);
    row.cumulative_pct = SharePct(cumulative, result.known_downloads);
    row.size_class = std::move(size_class);
    result.rows.push_back(std::move(row));
  }
  return result;
}

Breakdown ComputeBreakdown(const AggregateCounts& counts, AggregateKind dimension,
                           std::optional<Modality> modality) {
  absl::flat_hash_map<std::string, int64_t> by_key;
  for (const auto& [name, downloads] : counts) {
    std::optional<ParsedAggregateField> field = ParseAggregateField(name);
    if (!field || field->kind != dimension) continue;
    if (modality && field->modality != *modality) continue;
    by_key[field->value] += downloads;
  }
  Breakdown result;
  for (const auto& [key, downloads] : by_key) result.total_downloads += downloads;
  for (auto& [key, downloads] : by_key) {
    if (downloads == 0) continue;
    result.rows.push_back({key, downloads, SharePct(downloads, result.total_downloads)});
  }
  std::sort(result.rows.begin(), result.rows.end(),
            [](const BreakdownRow& a, const BreakdownRow& b) {
              return a.downloads != b.downloads ? a.downloads > b.downloads : a.key < b.key;
            });
  return result;
}

bool RanksBefore(const RankedEntry& a, const RankedEntry& b) {
  return a.downloads != b.downloads ? a.downloads > b.downloads : a.id < b.id;
}

void KeepTop(std::vector<RankedEntry>& entries, size_t n) {
  if (entries.size() > n) {
    std::partial_sort(entries.begin(), entries.begin() + n, entries.end(), RanksBefore);
    entries.resize(n);
  } else {
    std::sort(entries.begin(), entries.end(), RanksBefore);
  }
}

TopN ComputeTopN(std::vector<RankedEntry> ranked, size_t n, int64_t total_downloads) {
  KeepTop(ranked, n);
  TopN result;
  result.total_downloads = total_downloads;
  int rank = 0;
  for (RankedEntry& entry : ranked) {
    result.top_downloads += entry.downloads;
    TopRow row;
    row.rank = ++rank;
    row.downloads = entry.downloads;
    row.share_pct = SharePct(entry.downloads, total_downloads);
    row.cumulative_pct = SharePct(result.top_downloads, total_downloads);
    row.id = std::move(entry.id);
    result.rows.push_back(std::move(row));
  }
  result.top_share_pct = SharePct(result.top_downloads, total_downloads);
  return result;
}

}  // namespace hubstats
