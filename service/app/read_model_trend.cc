// ReadModel's trend queries: many periods answered under one reader lock.
#include <algorithm>
#include <map>
#include <mutex>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "app/read_model.h"

namespace hubstats {

// Top-n results of periods, each valid while its days' generations are unchanged. A period
// that has closed (every past month, week or day) is summed once; the open one again only
// after it changed. Thread-safe (its own lock), so queries holding the reader lock use it.
class ReadModel::PeriodTopCache {
 public:
  using Key = std::tuple<int32_t, int32_t, RankBy, int, int>;  // first, last, by, modality, n.
  using Signature = std::vector<std::pair<Day, uint64_t>>;

  std::optional<TopCandidates> Find(const Key& key, const Signature& signature) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.first != signature) return std::nullopt;
    return it->second.second;
  }

  void Insert(const Key& key, Signature signature, const TopCandidates& top) {
    std::lock_guard lock(mutex_);
    // Bounded: a few years of days for a handful of (by, modality, n) combinations. Dropping
    // everything when full is simple and only costs a recomputation.
    if (entries_.size() >= kCapacity) entries_.clear();
    entries_[key] = {std::move(signature), top};
  }

 private:
  static constexpr size_t kCapacity = 8192;
  std::mutex mutex_;
  std::map<Key, std::pair<Signature, TopCandidates>> entries_;
};

std::vector<AggregateCounts> ReadModel::PeriodAggregates(const std::vector<Period>& periods,
                                                         AggregateKind dimension,
                                                         AsOf& as_of) const {
  std::shared_lock lock(mutex_);
  as_of = CurrentAsOf();
  std::vector<AggregateCounts> counts;
  counts.reserve(periods.size());
  for (const Period& period : periods) {
    class Aggregates sum;
    ForEachScope(period.first, period.last,
                 [&](const Scope& scope, uint64_t) { sum.Merge(scope.aggregates()); });
    counts.push_back(sum.Counts(table_, dimension));
  }
  return counts;
}

std::vector<SizeCounts> ReadModel::PeriodSizes(const std::vector<Period>& periods,
                                               const std::vector<int64_t>& boundaries,
                                               std::optional<Modality> modality,
                                               AsOf& as_of) const {
  std::shared_lock lock(mutex_);
  as_of = CurrentAsOf();
  std::vector<SizeCounts> sizes;
  sizes.reserve(periods.size());
  for (const Period& period : periods) {
    class Aggregates sum;
    SizeCounts& out = sizes.emplace_back();
    out.below.assign(boundaries.size(), 0);
    ForEachScope(period.first, period.last, [&](const Scope& scope, uint64_t) {
      sum.Merge(scope.aggregates());
      const std::vector<int64_t> below = BelowBoundaries(scope, boundaries, modality);
      for (size_t i = 0; i < below.size(); ++i) out.below[i] += below[i];
    });
    out.counts = sum.Counts(table_, AggregateKind::kSize);
  }
  return sizes;
}

std::vector<TopCandidates> ReadModel::PeriodTops(const std::vector<Period>& periods, RankBy by,
                                                 std::optional<Modality> modality, int n,
                                                 AsOf& as_of) const {
  std::call_once(period_tops_once_, [&] { period_tops_ = std::make_shared<PeriodTopCache>(); });
  const size_t wanted = static_cast<size_t>(n);
  std::shared_lock lock(mutex_);
  as_of = CurrentAsOf();
  std::vector<TopCandidates> tops;
  tops.reserve(periods.size());
  for (const Period& period : periods) {
    const PeriodTopCache::Key key{period.first.number(), period.last.number(), by,
                                  modality ? static_cast<int>(*modality) : -1, n};
    PeriodTopCache::Signature signature = Signature(period.first, period.last);
    if (std::optional<TopCandidates> cached = period_tops_->Find(key, signature)) {
      tops.push_back(std::move(*cached));
      continue;
    }
    // Sum the period's days per member (model or author) of the modality; then select the
    // first n in ranking order (downloads descending, id ascending) without naming the rest.
    TopCandidates top;
    absl::flat_hash_map<uint32_t, int64_t> members;
    ForEachScope(period.first, period.last, [&](const Scope& scope, uint64_t) {
      top.total_downloads +=
          modality ? scope.aggregates().Total(*modality) : scope.aggregates().Total();
      scope.ForEachModel([&](uint32_t number, int64_t downloads) {
        const ModelEntry& model = table_.model(number);
        if (modality && model.cls.modality != *modality) return;
        members[by == RankBy::kModel ? number : model.author] += downloads;
      });
    });
    top.entries = RankMembers(members, by, wanted);
    period_tops_->Insert(key, std::move(signature), top);
    tops.push_back(std::move(top));
  }
  return tops;
}

}  // namespace hubstats
