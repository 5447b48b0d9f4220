// ReadModel's feeding side (see read_model.h): snapshots, change records, the rolling window's
// day rollover and the packing of old days, each under the model's writer lock, and the
// version waits each change releases.
#include <algorithm>
#include <mutex>

#include "app/read_model.h"

namespace hubstats {

ReadModel::DayTarget ReadModel::TargetFor(uint32_t shard, Day day, absl::Time now) {
  const Day month = PeriodStart(day, Granularity::kMonth);
  const bool folded = folded_[shard].contains(month);  // Late downloads of a folded month.
  std::unique_ptr<Scope>& scope = folded ? months_[month] : days_[day];
  if (!scope) {
    scope = std::make_unique<Scope>(table_, Scope::Layout::kSparse, options_.ranking_capacity);
  }
  if (folded) return {day, scope.get(), false};
  day_changed_[day] = now;
  const Day first = Day::FromNumber(rolling_today_.number() - (options_.rolling_days - 1));
  return {day, scope.get(), first <= day && day <= rolling_today_};
}

void ReadModel::AddDownloads(uint32_t number, Day day, int64_t downloads) {
  AddDownloads(number, TargetFor(table_.model(number).shard, day, options_.clock()), downloads);
}

void ReadModel::AddDownloads(uint32_t number, const DayTarget& target, int64_t downloads) {
  const ModelEntry& model = table_.model(number);
  all_time_->Add(number, model, downloads);
  target.scope->Add(number, model, downloads);
  if (target.rolling) rolling_->Add(number, model, downloads);
}

void ReadModel::AddRecordDownloads(uint32_t shard, const std::vector<DownloadsAdded>& downloads) {
  struct Resolved {
    uint32_t number;
    uint32_t target;  // In `targets`.
    int64_t downloads;
  };
  // Where a day's downloads go is looked up once per day of the record, not per model: a live
  // record's models are nearly all on today.
  const absl::Time now = options_.clock();
  std::vector<DayTarget> targets;
  std::vector<Resolved> resolved;
  resolved.reserve(downloads.size());
  for (const DownloadsAdded& added : downloads) {
    // Every index was named before it is counted (ModelIndexed comes first in its shard).
    std::optional<uint32_t> number = table_.FindIndex(shard, added.index);
    if (!number) continue;
    auto target = std::find_if(targets.begin(), targets.end(),
                               [&](const DayTarget& known) { return known.day == added.day; });
    if (target == targets.end()) target = targets.insert(target, TargetFor(shard, added.day, now));
    resolved.push_back({*number, static_cast<uint32_t>(target - targets.begin()), added.downloads});
  }
  // Each Add misses the cache several times (the model's entry, then its counters in every
  // scope). Fetching the entry kEntryAhead models ahead and, once it is in, the counters
  // kCountersAhead ahead lets those misses overlap instead of queueing one behind the other.
  constexpr size_t kEntryAhead = 16, kCountersAhead = 8;
  for (size_t i = 0; i < resolved.size(); ++i) {
    if (i + kEntryAhead < resolved.size()) {
      __builtin_prefetch(&table_.model(resolved[i + kEntryAhead].number));
    }
    if (i + kCountersAhead < resolved.size()) {
      const Resolved& soon = resolved[i + kCountersAhead];
      const ModelEntry& model = table_.model(soon.number);
      all_time_->Prefetch(soon.number, model);
      targets[soon.target].scope->Prefetch(soon.number, model);
      if (targets[soon.target].rolling) rolling_->Prefetch(soon.number, model);
    }
    AddDownloads(resolved[i].number, targets[resolved[i].target], resolved[i].downloads);
  }
}

void ReadModel::WarmRecordDownloads(uint32_t shard,
                                    const std::vector<DownloadsAdded>& downloads) const {
  const Day rolling_first = Day::FromNumber(rolling_today_.number() - (options_.rolling_days - 1));
  struct Found {
    uint32_t number;
    bool rolling;        // The rolling window holds its day.
    const Scope* scope;  // Its day's; null while the day has none yet.
  };
  std::vector<Found> found;
  found.reserve(downloads.size());
  std::optional<Day> last_day;
  const Scope* last_scope = nullptr;
  bool last_rolling = false;
  for (const DownloadsAdded& added : downloads) {
    std::optional<uint32_t> number = table_.FindIndex(shard, added.index);
    if (!number) continue;  // Named by this very record: found under the lock.
    if (added.day != last_day) {
      auto day = days_.find(added.day);
      last_day = added.day;
      last_scope = day == days_.end() ? nullptr : day->second.get();
      last_rolling = rolling_first <= added.day && added.day <= rolling_today_;
    }
    __builtin_prefetch(&table_.model(*number));
    found.push_back({*number, last_rolling, last_scope});
  }
  // The entries were requested above, all at once; by now most have arrived, and each tells
  // which author and modality counters to fetch.
  for (const Found& model : found) {
    const ModelEntry& entry = table_.model(model.number);
    all_time_->Prefetch(model.number, entry);
    if (model.scope != nullptr) model.scope->Prefetch(model.number, entry);
    if (model.rolling) rolling_->Prefetch(model.number, entry);
  }
}

void ReadModel::AddAllTimeOnly(uint32_t number, int64_t downloads) {
  all_time_->Add(number, table_.model(number), downloads);
  all_time_only_ += downloads;
}

void ReadModel::AddMonthDownloads(uint32_t number, Day month, int64_t downloads) {
  const ModelEntry& model = table_.model(number);
  all_time_->Add(number, model, downloads);
  std::unique_ptr<Scope>& scope = months_[month];
  if (!scope) {
    scope = std::make_unique<Scope>(table_, Scope::Layout::kSparse, options_.ranking_capacity);
  }
  scope->Add(number, model, downloads);
}

void ReadModel::FoldMonth(uint32_t shard, Day month) {
  folded_[shard].insert(month);
  folded_any_.insert(month);
  ++layout_epoch_;
  std::unique_ptr<Scope>& target = months_[month];
  if (!target) {
    target = std::make_unique<Scope>(table_, Scope::Layout::kSparse, options_.ranking_capacity);
  }
  const Day end = PeriodEnd(month, Granularity::kMonth);
  const Day rolling_first = Day::FromNumber(rolling_today_.number() - (options_.rolling_days - 1));
  for (auto day = days_.lower_bound(month); day != days_.end() && day->first <= end;) {
    std::vector<std::pair<uint32_t, int64_t>> moving;
    day->second->ForEachModel([&](uint32_t number, int64_t downloads) {
      if (table_.model(number).shard == shard) moving.emplace_back(number, downloads);
    });
    // The rolling window holds what its days hold: what leaves a day leaves it too (ScopeFor
    // does not use it while a folded month overlaps it).
    const bool in_rolling = rolling_first <= day->first && day->first <= rolling_today_;
    for (const auto& [number, downloads] : moving) {
      const ModelEntry& model = table_.model(number);
      day->second->Add(number, model, -downloads);
      target->Add(number, model, downloads);
      if (in_rolling) rolling_->Add(number, model, -downloads);
    }
    if (day->second->models_with_downloads() == 0) {
      day_changed_.erase(day->first);
      day = days_.erase(day);
    } else {
      ++day;
    }
  }
  target->Freeze();
}

void ReadModel::Reclassify(uint32_t number, const ClassKey& before) {
  const ModelEntry& model = table_.model(number);
  if (all_time_->Model(number) == 0) return;  // No downloads anywhere: nothing moves.
  all_time_->Reclassify(number, model, before);
  rolling_->Reclassify(number, model, before);
  for (auto& [day, scope] : days_) scope->Reclassify(number, model, before);
  for (auto& [month, scope] : months_) scope->Reclassify(number, model, before);
}

void ReadModel::RebuildRolling(Day today) {
  rolling_ = std::make_unique<Scope>(table_, Scope::Layout::kDense, options_.ranking_capacity);
  rolling_today_ = today;
  const Day first = Day::FromNumber(today.number() - (options_.rolling_days - 1));
  for (auto it = days_.lower_bound(first); it != days_.end() && it->first <= today; ++it) {
    it->second->ForEachModel([&](uint32_t number, int64_t downloads) {
      rolling_->Add(number, table_.model(number), downloads);
    });
  }
}

void ReadModel::LoadShard(uint32_t shard, const ShardSnapshot& snapshot) {
  WriteLock lock(*this);
  // A reload (after a gap in the log): take out everything the shard's models held first.
  for (uint32_t number = 0; number < table_.model_count(); ++number) {
    if (table_.model(number).shard != shard || all_time_->Model(number) == 0) continue;
    for (auto& [day, scope] : days_) {
      if (const int64_t downloads = scope->Model(number)) AddDownloads(number, day, -downloads);
    }
    for (auto& [month, scope] : months_) {
      if (const int64_t downloads = scope->Model(number)) {
        AddMonthDownloads(number, month, -downloads);
      }
    }
    if (const int64_t late = all_time_->Model(number)) AddAllTimeOnly(number, -late);
  }
  // The shard's folded months are the snapshot's (they only grow, unless Redis lost data).
  folded_[shard].clear();
  for (const ShardSnapshot::MonthCounts& month : snapshot.months) {
    folded_[shard].insert(month.month);
  }
  folded_any_.clear();
  for (const std::set<Day>& months : folded_) folded_any_.insert(months.begin(), months.end());
  ++layout_epoch_;
  std::vector<uint32_t> numbers;
  numbers.reserve(snapshot.models.size());
  for (const ShardSnapshot::Model& model : snapshot.models) {
    const uint32_t number = table_.Add(model.model_id, shard, model.index);
    numbers.push_back(number);
    if (model.record) {
      const ClassKey before = table_.SetRecord(number, *model.record);
      Reclassify(number, before);
    }
  }
  const absl::Time now = options_.clock();
  for (const ShardSnapshot::DayCounts& day : snapshot.days) {
    if (day.downloads.empty()) continue;
    const DayTarget target = TargetFor(shard, day.day, now);
    for (const auto& [index, downloads] : day.downloads) {
      if (std::optional<uint32_t> number = table_.FindIndex(shard, index)) {
        AddDownloads(*number, target, downloads);
      }
    }
  }
  for (const ShardSnapshot::MonthCounts& month : snapshot.months) {
    for (const auto& [index, downloads] : month.downloads) {
      if (std::optional<uint32_t> number = table_.FindIndex(shard, index)) {
        AddMonthDownloads(*number, month.month, downloads);
      }
    }
    if (auto scope = months_.find(month.month); scope != months_.end()) scope->second->Freeze();
  }
  // The store keeps all time apart from the days and months: what they do not hold is late
  // downloads counted into all time only.
  for (size_t i = 0; i < numbers.size(); ++i) {
    const int64_t late = snapshot.models[i].all_time - all_time_->Model(numbers[i]);
    if (late > 0) AddAllTimeOnly(numbers[i], late);
  }
  versions_[shard] = snapshot.version;
  Publish(lock);
}

void ReadModel::Apply(uint32_t shard, Version version, const ChangeRecord& record) {
  {
    // Queries wait for the exclusive hold below: its cache misses are taken here, beside them.
    std::shared_lock warm(mutex_);
    WarmRecordDownloads(shard, record.downloads);
  }
  WriteLock lock(*this);
  for (const ModelIndexed& model : record.indexed) table_.Add(model.model_id, shard, model.index);
  for (const RecordWritten& written : record.records) {
    const uint32_t number = table_.Add(written.record.model_id, shard, written.index);
    const ClassKey before = table_.SetRecord(number, written.record);
    Reclassify(number, before);
  }
  AddRecordDownloads(shard, record.downloads);
  for (const AllTimeAdded& added : record.all_time_only) {
    if (std::optional<uint32_t> number = table_.FindIndex(shard, added.index)) {
      AddAllTimeOnly(*number, added.downloads);
    }
  }
  for (Day month : record.folded_months) FoldMonth(shard, month);
  versions_[shard] = std::max(versions_[shard], version);
  Publish(lock);
}

ReadModel::WriteLock::WriteLock(const ReadModel& model)
    : model_(model), lock_(model.mutex_, std::defer_lock) {
  // Boosted before it waits: queries that arrive meanwhile queue behind this writer.
  if (const int priority = model.options_.writer_realtime_priority; priority > 0) {
    boost_.emplace(priority);
  }
  lock_.lock();
  start_ = std::chrono::steady_clock::now();
}

ReadModel::WriteLock::~WriteLock() {
  if (lock_.owns_lock()) Unlock();
}

void ReadModel::WriteLock::Unlock() {
  const auto held = std::chrono::steady_clock::now() - start_;
  lock_.unlock();
  if (model_.options_.on_exclusive_hold) model_.options_.on_exclusive_hold(absl::FromChrono(held));
  boost_.reset();
}

void ReadModel::Publish(WriteLock& lock) {
  applied_.notify_all();
  if (!ready_) return;
  std::vector<VersionWaits::Callback> reached = waits_.TakeReached(versions_);
  // Decided under the lock, run after it: a callback may query the model.
  lock.Unlock();
  for (VersionWaits::Callback& then : reached) then(true);
}

void ReadModel::Maintain() {
  WriteLock lock(*this);
  const absl::Time now = options_.clock();
  const Day today = Day::FromTime(now);
  if (today != rolling_today_) RebuildRolling(today);
  for (auto it = day_changed_.begin(); it != day_changed_.end();) {
    if (now - it->second < options_.freeze_after) {
      ++it;
      continue;
    }
    if (auto day = days_.find(it->first); day != days_.end()) day->second->Freeze();
    it = day_changed_.erase(it);
  }
}

void ReadModel::SetReady() {
  WriteLock lock(*this);
  ready_ = true;
  Publish(lock);
}

}  // namespace hubstats
