#include "app/read_model.h"

#include <algorithm>
#include <array>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "core/field_error.h"
#include "core/size_class.h"

namespace hubstats {

// A range's scope, summed from its days, with what it was summed from.
struct ReadModel::RangeEntry {
  std::vector<std::pair<Day, uint64_t>> signature;  // Each day of the range and its generation.
  std::mutex ranking_mutex;  // Guards building the scope's rankings (the scope is shared).
  std::unique_ptr<Scope> scope;
};

// The most recently used range scopes, each valid while its days' generations are unchanged.
// Thread-safe (its own lock), so queries holding only the reader lock can use it.
class ReadModel::RangeCache {
 public:
  explicit RangeCache(size_t capacity) : capacity_(capacity) {}

  std::shared_ptr<RangeEntry> Find(const std::pair<Day, Day>& range,
                                   const std::vector<std::pair<Day, uint64_t>>& signature) {
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->first != range) continue;
      if (it->second->signature != signature) {
        entries_.erase(it);
        return nullptr;
      }
      entries_.splice(entries_.begin(), entries_, it);
      return it->second;
    }
    return nullptr;
  }

  void Insert(const std::pair<Day, Day>& range, std::shared_ptr<RangeEntry> entry) {
    std::lock_guard lock(mutex_);
    entries_.emplace_front(range, std::move(entry));
    while (entries_.size() > capacity_) entries_.pop_back();
  }

 private:
  const size_t capacity_;
  std::mutex mutex_;
  std::list<std::pair<std::pair<Day, Day>, std::shared_ptr<RangeEntry>>> entries_;
};

ReadModel::ReadModel(const TaskTable& tasks, uint32_t shard_count, ReadModelOptions options)
    : shard_count_(shard_count),
      options_(std::move(options)),
      table_(tasks),
      versions_(shard_count),
      all_time_(std::make_unique<Scope>(table_, Scope::Layout::kDense, options_.ranking_capacity)),
      folded_(shard_count),
      ranges_(std::make_unique<RangeCache>(options_.range_cache_entries)) {
  RebuildRolling(Day::FromTime(options_.clock()));
}

ReadModel::~ReadModel() = default;

void ReadModel::ForEachScope(
    Day first, Day last,
    absl::FunctionRef<void(const Scope& scope, uint64_t generation)> visit) const {
  for (auto it = days_.lower_bound(first); it != days_.end() && it->first <= last; ++it) {
    visit(*it->second, it->second->generation());
  }
  for (auto it = months_.lower_bound(PeriodStart(first, Granularity::kMonth));
       it != months_.end() && it->first <= last; ++it) {
    visit(*it->second, it->second->generation());
  }
}

std::vector<std::pair<Day, uint64_t>> ReadModel::Signature(Day first, Day last) const {
  std::vector<std::pair<Day, uint64_t>> signature = {{Day(), layout_epoch_}};
  for (auto it = days_.lower_bound(first); it != days_.end() && it->first <= last; ++it) {
    signature.emplace_back(it->first, it->second->generation());
  }
  for (auto it = months_.lower_bound(PeriodStart(first, Granularity::kMonth));
       it != months_.end() && it->first <= last; ++it) {
    signature.emplace_back(it->first, it->second->generation());
  }
  return signature;
}

absl::Status ReadModel::CheckRange(const DayRange& range, absl::string_view field) const {
  std::shared_lock lock(mutex_);
  for (Day month : folded_any_) {
    const Day end = PeriodEnd(month, Granularity::kMonth);
    const bool starts_inside = range.first && month < *range.first && *range.first <= end;
    const bool ends_inside = range.last && month <= *range.last && *range.last < end;
    if (!starts_inside && !ends_inside) continue;
    const Day inside = starts_inside ? *range.first : *range.last;
    const Day before = starts_inside ? month : Day::FromNumber(month.number() - 1);
    const Day after = starts_inside ? Day::FromNumber(end.number() + 1) : end;
    return InvalidFieldError(
        absl::StrCat(field, starts_inside ? ".start" : ".end"),
        absl::StrCat(inside.ToString(), " is in ", month.ToString().substr(0, 7),
                     ", whose downloads are kept only as a monthly total (per-day detail past "
                     "the retention window is folded into months); ",
                     starts_inside ? "start" : "end", " the range on ", before.ToString(), " or ",
                     after.ToString()));
  }
  return absl::OkStatus();
}

std::vector<Day> ReadModel::FoldedMonths() const {
  std::shared_lock lock(mutex_);
  return std::vector<Day>(folded_any_.begin(), folded_any_.end());
}

bool ReadModel::ready() const {
  std::shared_lock lock(mutex_);
  return ready_;
}

VersionVector ReadModel::versions() const {
  std::shared_lock lock(mutex_);
  return versions_;
}

bool ReadModel::WaitFor(const VersionToken& token, absl::Time deadline) const {
  std::shared_lock lock(mutex_);
  return applied_.wait_until(lock, absl::ToChronoTime(deadline),
                             [&] { return ready_ && token.ReachedBy(versions_); });
}

bool ReadModel::Reached(const VersionToken& token) const {
  std::shared_lock lock(mutex_);
  return ready_ && token.ReachedBy(versions_);
}

void ReadModel::WhenApplied(VersionToken token, absl::Time deadline, VersionWaits::Callback then) {
  {
    // Shared: Publish takes the reached waits under the exclusive lock, so none added here
    // can miss the change that reaches it.
    std::shared_lock lock(mutex_);
    if (!(ready_ && token.ReachedBy(versions_))) {
      waits_.Add(std::move(token), deadline, std::move(then));
      return;
    }
  }
  then(true);
}

std::optional<uint32_t> ReadModel::IndexOf(absl::string_view model_id) const {
  std::shared_lock lock(mutex_);
  std::optional<uint32_t> number = table_.Find(model_id);
  if (!number) return std::nullopt;
  return table_.model(*number).index;
}

AsOf ReadModel::CurrentAsOf() const {
  AsOf as_of;
  as_of.versions = versions_;
  // Redis stream ids start with the store's clock in milliseconds.
  uint64_t newest = 0;
  for (const Version& version : versions_) newest = std::max(newest, version.major);
  if (newest > 0) as_of.time = absl::FromUnixMillis(static_cast<int64_t>(newest));
  return as_of;
}

ReadModel::ScopeRef ReadModel::ScopeFor(const DayRange& range) const {
  if (range.all_time()) return {all_time_.get(), nullptr};
  if (days_.empty() && months_.empty()) return {};
  // Clip the range to the days and folded months with downloads.
  Day span_first = days_.empty() ? months_.begin()->first : days_.begin()->first;
  Day span_last = days_.empty() ? months_.rbegin()->first : days_.rbegin()->first;
  if (!months_.empty()) {
    span_first = std::min(span_first, months_.begin()->first);
    span_last = std::max(span_last, PeriodEnd(months_.rbegin()->first, Granularity::kMonth));
  }
  const Day first = std::max(range.first.value_or(span_first), span_first);
  const Day last = std::min(range.last.value_or(span_last), span_last);
  if (first > last) return {};
  if (first == span_first && last == span_last && all_time_only_ == 0) {
    return {all_time_.get(), nullptr};  // Every day with downloads: all time, exactly.
  }
  if (first == last) {
    auto day = days_.find(first);
    return {day == days_.end() ? nullptr : day->second.get(), nullptr};
  }
  const Day rolling_first = Day::FromNumber(rolling_today_.number() - (options_.rolling_days - 1));
  auto folded_in_rolling = [&] {
    auto month = folded_any_.upper_bound(rolling_today_);
    return month != folded_any_.begin() &&
           PeriodEnd(*std::prev(month), Granularity::kMonth) >= rolling_first;
  };
  if (range.first && range.last && last == rolling_today_ && *range.last == rolling_today_ &&
      *range.first == rolling_first && !folded_in_rolling()) {
    return {rolling_.get(), nullptr};
  }
  std::vector<std::pair<Day, uint64_t>> signature = Signature(first, last);
  if (std::shared_ptr<RangeEntry> cached = ranges_->Find({first, last}, signature)) {
    return {cached->scope.get(), cached};
  }
  auto entry = std::make_shared<RangeEntry>();
  entry->signature = std::move(signature);
  entry->scope = std::make_unique<Scope>(table_, Scope::Layout::kSparse, options_.ranking_capacity);
  ForEachScope(first, last, [&](const Scope& scope, uint64_t) {
    scope.ForEachModel([&](uint32_t number, int64_t downloads) {
      entry->scope->Add(number, table_.model(number), downloads);
    });
  });
  ranges_->Insert({first, last}, entry);
  return {entry->scope.get(), entry};
}

AggregateCounts ReadModel::Aggregates(const DayRange& range, AggregateKind dimension,
                                      AsOf& as_of) const {
  std::shared_lock lock(mutex_);
  as_of = CurrentAsOf();
  const ScopeRef ref = ScopeFor(range);
  if (ref.scope == nullptr) return {};
  return ref.scope->aggregates().Counts(table_, dimension);
}

std::vector<int64_t> ReadModel::BelowBoundaries(const Scope& scope,
                                                const std::vector<int64_t>& boundaries,
                                                std::optional<Modality> modality) const {
  std::vector<int64_t> below(boundaries.size(), 0);
  // The off-grid boundaries inside each fine bucket (one on the grid is a union of whole
  // buckets, answered by the aggregates), and how many catalogued models those buckets hold.
  std::array<std::vector<size_t>, kFineBucketCount> inside;
  size_t bucket_models = 0;
  for (size_t i = 0; i < boundaries.size(); ++i) {
    if (OnSizeGrid(boundaries[i])) continue;
    const int bucket = FineBucketOf(boundaries[i]);
    if (inside[bucket].empty()) bucket_models += table_.ModelsInBucket(bucket).size();
    inside[bucket].push_back(i);
  }
  if (bucket_models == 0) return below;
  auto count = [&](uint32_t number, int64_t downloads) {
    const ModelEntry& model = table_.model(number);
    if (model.cls.size_bucket < 0) return;
    if (modality && model.cls.modality != *modality) return;
    for (const size_t i : inside[model.cls.size_bucket]) {
      if (model.parameters < boundaries[i]) below[i] += downloads;
    }
  };
  // Walk whichever is shorter, once for all boundaries: the buckets' catalogued models, or the
  // scope (a day's or range's models: one pass for many boundaries in many buckets; a dense
  // scope's walk steps through every model, so there the buckets are always shorter).
  if (scope.walk_length() < bucket_models) {
    scope.ForEachModel(count);
  } else {
    for (int bucket = 0; bucket < kFineBucketCount; ++bucket) {
      if (inside[bucket].empty()) continue;
      for (const uint32_t number : table_.ModelsInBucket(bucket)) {
        if (const int64_t downloads = scope.Model(number)) count(number, downloads);
      }
    }
  }
  return below;
}

SizeCounts ReadModel::Sizes(const DayRange& range, const std::vector<int64_t>& boundaries,
                            std::optional<Modality> modality, AsOf& as_of) const {
  std::shared_lock lock(mutex_);
  as_of = CurrentAsOf();
  SizeCounts sizes;
  sizes.below.assign(boundaries.size(), 0);
  const ScopeRef ref = ScopeFor(range);
  if (ref.scope == nullptr) return sizes;
  sizes.counts = ref.scope->aggregates().Counts(table_, AggregateKind::kSize);
  sizes.below = BelowBoundaries(*ref.scope, boundaries, modality);
  return sizes;
}

TopCandidates ReadModel::Top(const DayRange& range, RankBy by, std::optional<Modality> modality,
                             int n, AsOf& as_of) const {
  const size_t wanted = static_cast<size_t>(n);
  auto answer = [&](const Scope& scope) {
    TopCandidates top;
    top.total_downloads =
        modality ? scope.aggregates().Total(*modality) : scope.aggregates().Total();
    for (const auto& [member, downloads] : scope.Top(by, modality, wanted)) {
      const absl::string_view id =
          by == RankBy::kModel ? table_.model(member).id : table_.author_name(member);
      top.entries.push_back({std::string(id), downloads});
    }
    return top;
  };
  // Rankings are built on first use: under the writer lock for the model's own scopes, under
  // the entry's lock for a cached range. Building takes a scan; afterwards Apply keeps them.
  while (true) {
    {
      std::shared_lock lock(mutex_);
      as_of = CurrentAsOf();
      const ScopeRef ref = ScopeFor(range);
      if (ref.scope == nullptr) return {};
      if (ref.range_entry) {
        std::lock_guard build(ref.range_entry->ranking_mutex);
        if (!ref.scope->RankingReady(by, modality, wanted)) {
          ref.range_entry->scope->BuildRanking(by, modality, wanted);
        }
        return answer(*ref.scope);
      }
      if (ref.scope->RankingReady(by, modality, wanted)) return answer(*ref.scope);
    }
    WriteLock lock(*this);
    const ScopeRef ref = ScopeFor(range);
    if (ref.scope != nullptr && !ref.range_entry) {
      const_cast<Scope*>(ref.scope)->BuildRanking(by, modality, wanted);
    }
  }
}

std::vector<RankedEntry> ReadModel::RankMembers(
    const absl::flat_hash_map<uint32_t, int64_t>& members, RankBy by, size_t n) const {
  auto name = [&](uint32_t member) {
    return by == RankBy::kModel ? table_.model(member).id : table_.author_name(member);
  };
  std::vector<std::pair<int64_t, uint32_t>> ranked;
  ranked.reserve(members.size());
  for (const auto& [member, downloads] : members) {
    if (downloads > 0) ranked.emplace_back(downloads, member);
  }
  const size_t kept = std::min(n, ranked.size());
  // Only the first n are put in order (and named): the rest of a Hub-scale walk stays numbers.
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<ptrdiff_t>(kept), ranked.end(),
                    [&](const auto& a, const auto& b) {
                      if (a.first != b.first) return a.first > b.first;
                      return name(a.second) < name(b.second);
                    });
  std::vector<RankedEntry> entries;
  entries.reserve(kept);
  for (size_t i = 0; i < kept; ++i) {
    entries.push_back({std::string(name(ranked[i].second)), ranked[i].first});
  }
  return entries;
}

Population ReadModel::Totals(const DayRange& range, AsOf& as_of) const {
  std::shared_lock lock(mutex_);
  as_of = CurrentAsOf();
  Population population;
  population.catalogued_models = table_.catalogued();
  const ScopeRef ref = ScopeFor(range);
  if (ref.scope == nullptr) return population;
  population.total_downloads = ref.scope->aggregates().Total();
  population.models_with_downloads = ref.scope->models_with_downloads();
  population.authors_with_downloads = ref.scope->authors_with_downloads();
  for (const auto& [day, scope] : days_) {
    if (!range.Contains(day) || scope->aggregates().Total() == 0) continue;
    if (!population.first_day) population.first_day = day;
    population.last_day = day;
  }
  // A folded month's downloads lie somewhere in it: its first and last day bound them.
  for (const auto& [month, scope] : months_) {
    const Day end = PeriodEnd(month, Granularity::kMonth);
    if (!range.Overlaps(month, end) || scope->aggregates().Total() == 0) continue;
    population.first_day = std::min(population.first_day.value_or(month), month);
    population.last_day = std::max(population.last_day.value_or(end), end);
  }
  return population;
}

namespace {

// 1 + the models of `scope` that rank before (downloads, id); 0 without downloads.
int64_t RankIn(const Scope& scope, const ModelTable& table, absl::string_view id,
               int64_t downloads) {
  if (downloads == 0) return 0;
  int64_t ahead = 0;
  scope.ForEachModel([&](uint32_t number, int64_t other) {
    if (other > downloads || (other == downloads && table.model(number).id < id)) ++ahead;
  });
  return ahead + 1;
}

}  // namespace

ModelView ReadModel::Model(absl::string_view model_id, const DayRange& range, AsOf& as_of) const {
  std::shared_lock lock(mutex_);
  as_of = CurrentAsOf();
  ModelView view;
  view.model_class = ModelClass::Unknown();
  std::optional<uint32_t> number = table_.Find(model_id);
  if (!number) return view;
  const ModelEntry& model = table_.model(*number);
  view.known = true;
  view.shard = model.shard;
  view.index = model.index;
  view.record = table_.Record(*number);
  view.model_class = table_.ClassOf(model.cls);
  view.downloads_all_time = all_time_->Model(*number);
  view.all_time_only = view.downloads_all_time;
  for (const auto& [day, scope] : days_) {
    const int64_t downloads = scope->Model(*number);
    view.all_time_only -= downloads;
    if (downloads == 0 || !range.Contains(day)) continue;
    view.days.push_back({day, downloads});
    view.downloads_in_range += downloads;
  }
  for (const auto& [month, scope] : months_) {
    const int64_t downloads = scope->Model(*number);
    view.all_time_only -= downloads;
    if (downloads == 0 || !range.Overlaps(month, PeriodEnd(month, Granularity::kMonth))) continue;
    view.months.push_back({month, downloads});
    view.downloads_in_range += downloads;
  }
  view.rank_all_time = RankIn(*all_time_, table_, model.id, view.downloads_all_time);
  if (range.all_time()) {
    view.downloads_in_range = view.downloads_all_time;
    view.rank_in_range = view.rank_all_time;
  } else if (const ScopeRef ref = ScopeFor(range); ref.scope != nullptr) {
    view.rank_in_range = RankIn(*ref.scope, table_, model.id, view.downloads_in_range);
  }
  return view;
}

}  // namespace hubstats
