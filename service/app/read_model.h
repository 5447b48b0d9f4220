// ReadModel: every replica's in-process view of the store, which answers every query.
//
// It holds the facts (models, catalog records, downloads per model and day) as loaded from the
// store's shard snapshots and kept current by applying the shards' change records (the
// Follower feeds it), and what queries need derived from them under this process's task table:
// each model's class; for all time, for each day and for the rolling window of the last
// `rolling_days` days, the downloads per model and author, the aggregates and exact rankings
// (app/scope.h). Other ranges are summed from their days on demand and cached while their days
// do not change.
//
// Retention: a month a shard folded (Store::FoldMonth) holds that shard's downloads as one
// monthly scope instead of days. A range that has some but not all days of a folded month
// cannot be answered exactly: CheckRange refuses it, and a query's answer for such a range is
// meaningless. Folded months only accumulate, so a caller checks after querying: a range
// accepted then was accepted when the answer was computed.
//
// Versions: the model has applied a prefix of every shard's change log, so its state is the
// store's state at versions(); every answer reports that vector, and two replicas at the same
// vector answer alike.
//
// Thread-safe: queries share a reader lock; feeding takes the writer lock for one change record
// at a time, so a query waits at most one record's application.
#ifndef HUBSTATS_SERVICE_APP_READ_MODEL_H_
#define HUBSTATS_SERVICE_APP_READ_MODEL_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "app/model_export.h"
#include "app/model_table.h"
#include "app/os_thread.h"
#include "app/scope.h"
#include "app/version_waits.h"
#include "core/crosstab.h"
#include "core/day.h"
#include "core/period.h"
#include "core/stats.h"
#include "core/version.h"
#include "store/store.h"

namespace hubstats {

struct ReadModelOptions {
  // Members each ranking tracks at first; a query for more rebuilds it larger.
  size_t ranking_capacity = 128;
  // The rolling window: the last `rolling_days` UTC days, today included.
  int rolling_days = 30;
  // "Now", for today and the rolling window.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
  // A day not changed for this long is packed (DayCounts::Freeze) by Maintain().
  absl::Duration freeze_after = absl::Minutes(5);
  // Range results kept (least recently used dropped).
  size_t range_cache_entries = 16;
  // Called with how long each exclusive hold of the model's lock lasted (applying a change
  // record, loading a shard, the day's maintenance, building a ranking): queries wait that
  // long. Runs on the writing thread after the lock is released (still boosted, below); must
  // be thread-safe.
  std::function<void(absl::Duration held)> on_exclusive_hold;
  // 1 to kMaxRealtimePriority: a thread runs at this real-time priority (RealtimeBoost) while
  // it holds the lock exclusively, so that it is not descheduled with queries waiting behind
  // it; 0: off. Check RealtimeBoost::Check first: where the system refuses, holds run as they
  // are.
  int writer_realtime_priority = 0;
};

// Which models a ranking counts (all that are given must hold). Task and library are breakdown
// keys (a record's pipeline tag or library, "(none)", or "unknown" without a record); models of
// unknown size fail any parameter bound.
struct TopFilter {
  std::optional<Modality> modality;
  std::optional<std::string> author;
  std::optional<std::string> task;
  std::optional<std::string> library;
  std::optional<int64_t> min_parameters;  // Inclusive.
  std::optional<int64_t> max_parameters;  // Exclusive.
  // Only a modality (or nothing): the maintained rankings answer.
  bool modality_only() const {
    return !author && !task && !library && !min_parameters && !max_parameters;
  }
};

struct TopCandidates {
  // Downloads in the range (of the modality, when filtered): the whole the shares refer to.
  int64_t total_downloads = 0;
  // At most n entries, in ranking order (downloads descending, id ascending).
  std::vector<RankedEntry> entries;
};

// The size counters of a range, with what boundaries off the size grid need (see
// ComputeSizeDistribution's `below`).
struct SizeCounts {
  AggregateCounts counts;
  std::vector<int64_t> below;  // Per boundary; 0 for one on the grid.
};

struct Population {
  int64_t total_downloads = 0;
  int64_t models_with_downloads = 0;
  int64_t authors_with_downloads = 0;
  int64_t catalogued_models = 0;
  std::optional<Day> first_day;  // Days with downloads in the range.
  std::optional<Day> last_day;
};

struct DayDownloads {
  Day day;
  int64_t downloads = 0;
  bool operator==(const DayDownloads&) const = default;
};

struct ModelView {
  bool known = false;                   // Catalogued or with downloads.
  uint32_t shard = 0, index = 0;        // In the store (when known).
  std::optional<CatalogRecord> record;  // nullopt: not catalogued.
  ModelClass model_class;               // ModelClass::Unknown() when not catalogued.
  int64_t downloads_all_time = 0;
  int64_t downloads_in_range = 0;
  // Rank by downloads (descending, ties by id) among all models, from 1; 0 without downloads.
  int64_t rank_all_time = 0;
  int64_t rank_in_range = 0;
  std::vector<DayDownloads> days;  // In the range, oldest first.
  // Folded months with downloads in the range (day: the month's first), oldest first.
  std::vector<DayDownloads> months;
  // Of downloads_all_time, the late downloads counted into all time only, on no day
  // (LatePolicy::kAllTimeOnly).
  int64_t all_time_only = 0;
};

// What an answer reflects: the versions applied, and (for stores whose versions carry it) the
// store time of the newest change.
struct AsOf {
  VersionVector versions;
  std::optional<absl::Time> time;
};

class ReadModel {
 public:
  // `tasks` must outlive the model.
  ReadModel(const TaskTable& tasks, uint32_t shard_count, ReadModelOptions options = {});
  ~ReadModel();

  uint32_t shard_count() const { return shard_count_; }

  // Feeding (see Follower; app/read_model_feed.cc). Replaces what the model holds of `shard`
  // with `snapshot`.
  void LoadShard(uint32_t shard, const ShardSnapshot& snapshot);
  // Applies one record of `shard`, logged at `version` (after the shard's current version).
  void Apply(uint32_t shard, Version version, const ChangeRecord& record);
  // Rolls the window over when the day changed, and packs days that stopped changing.
  void Maintain();
  // Loaded enough to answer (set by the Follower once every shard is loaded).
  void SetReady();
  bool ready() const;

  VersionVector versions() const;
  // Waits until every version of `token` is applied, or `deadline`; true when applied.
  bool WaitFor(const VersionToken& token, absl::Time deadline) const;
  // Whether the model is ready and has applied every version of `token` (never waits).
  bool Reached(const VersionToken& token) const;
  // WaitFor without a thread: calls `then(true)` once every version of `token` is applied
  // (at once, on this thread, when it already is; else on the feeding thread, after it
  // released the model's lock), or `then(false)` once `deadline` passed (see VersionWaits).
  // `then` must not block.
  void WhenApplied(VersionToken token, absl::Time deadline, VersionWaits::Callback then);

  // The model's index in its shard, when the model is known.
  std::optional<uint32_t> IndexOf(absl::string_view model_id) const;
  // The same for many models at once (one lock); nullopt for unknown ones.
  template <typename Models, typename IdOf>
  std::vector<std::optional<uint32_t>> IndexesOf(const Models& models, IdOf id_of) const {
    std::vector<std::optional<uint32_t>> indexes;
    indexes.reserve(models.size());
    std::shared_lock lock(mutex_);
    for (const auto& model : models) {
      std::optional<uint32_t> number = table_.Find(id_of(model));
      indexes.push_back(number ? std::optional<uint32_t>(table_.model(*number).index)
                               : std::nullopt);
    }
    return indexes;
  }

  // OK when `range` can be answered exactly: it has all days or none of every folded month.
  // Otherwise INVALID_ARGUMENT naming `<field>.start` or `<field>.end` (whichever end lies
  // inside a folded month) and the month's first day and the next month's, the nearest ends
  // that are.
  absl::Status CheckRange(const DayRange& range, absl::string_view field = "range") const;
  // The folded months (of any shard), oldest first.
  std::vector<Day> FoldedMonths() const;

  // Queries, exact at the versions reported in `as_of` when CheckRange(range) accepts `range`
  // (see the retention note above). `range` must be valid.
  AggregateCounts Aggregates(const DayRange& range, AggregateKind dimension, AsOf& as_of) const;
  // The size counters and, for each boundary off the size grid, the downloads (of `modality`)
  // of the models of its fine bucket below it: a walk over that bucket's models (or the
  // range's, when fewer), not over every model.
  SizeCounts Sizes(const DayRange& range, const std::vector<int64_t>& boundaries,
                   std::optional<Modality> modality, AsOf& as_of) const;
  TopCandidates Top(const DayRange& range, RankBy by, std::optional<Modality> modality, int n,
                    AsOf& as_of) const;
  // The same over the models `filter` admits. Beyond a modality there is no maintained ranking:
  // a walk over the range's models with downloads (all of them for all time: milliseconds at
  // Hub scale).
  TopCandidates Top(const DayRange& range, RankBy by, const TopFilter& filter, int n,
                    AsOf& as_of) const;
  // Walks (app/read_model_walks.cc). The downloads (of `modality`) per pair of keys of two class
  // dimensions (see core/crosstab.h), non-zero pairs only; `boundaries` valid for the size.
  std::vector<CrossCount> CrossCounts(const DayRange& range, TrendDimension rows,
                                      TrendDimension columns,
                                      const std::vector<int64_t>& boundaries,
                                      std::optional<Modality> modality, AsOf& as_of) const;
  // Every model with downloads in the range that `filter` admits, in ranking order. The export
  // borrows the model's names: it must not outlive the model.
  ModelExport Export(const DayRange& range, const TopFilter& filter, AsOf& as_of) const;
  Population Totals(const DayRange& range, AsOf& as_of) const;
  ModelView Model(absl::string_view model_id, const DayRange& range, AsOf& as_of) const;

  // Trends (app/read_model_trend.cc): per period, exactly what Aggregates (or Top) of the
  // period's days first..last gives, all at one version (one lock). A period's top-n is summed
  // from its days once and kept while those days do not change.
  std::vector<AggregateCounts> PeriodAggregates(const std::vector<Period>& periods,
                                                AggregateKind dimension, AsOf& as_of) const;
  std::vector<SizeCounts> PeriodSizes(const std::vector<Period>& periods,
                                      const std::vector<int64_t>& boundaries,
                                      std::optional<Modality> modality, AsOf& as_of) const;
  std::vector<TopCandidates> PeriodTops(const std::vector<Period>& periods, RankBy by,
                                        std::optional<Modality> modality, int n, AsOf& as_of) const;

 private:
  class RangeCache;
  // mutex_ held exclusively until Unlock() or the end of scope, and the hold reported to
  // ReadModelOptions::on_exclusive_hold after it ends; the thread is boosted meanwhile (and
  // while it waits for the lock) when ReadModelOptions::writer_realtime_priority is set.
  class WriteLock {
   public:
    explicit WriteLock(const ReadModel& model);
    ~WriteLock();
    WriteLock(const WriteLock&) = delete;
    WriteLock& operator=(const WriteLock&) = delete;
    void Unlock();

   private:
    const ReadModel& model_;
    std::optional<RealtimeBoost> boost_;
    std::unique_lock<std::shared_mutex> lock_;
    std::chrono::steady_clock::time_point start_;
  };
  struct RangeEntry;
  class PeriodTopCache;
  // The scope that answers `range`: all time, a day, the rolling window, or a range summed from
  // its days (then `range_entry` keeps it alive and guards its lazily built rankings).
  // Requires mutex_ (shared); `scope` is null when no day of the range has downloads.
  struct ScopeRef {
    const Scope* scope = nullptr;
    std::shared_ptr<RangeEntry> range_entry;
  };
  ScopeRef ScopeFor(const DayRange& range) const;
  // The first n of `members` (model or author numbers) in ranking order, named.
  // Requires mutex_ (shared).
  std::vector<RankedEntry> RankMembers(const absl::flat_hash_map<uint32_t, int64_t>& members,
                                       RankBy by, size_t n) const;
  // Sizes' `below` for one scope. Requires mutex_ (shared).
  std::vector<int64_t> BelowBoundaries(const Scope& scope, const std::vector<int64_t>& boundaries,
                                       std::optional<Modality> modality) const;
  // Where one shard's downloads on one day count, besides all time: the day's scope (made
  // here, and marked changed at `now`), or its month's when the shard folded that month; and
  // whether the rolling window holds the day. Requires mutex_ (exclusive).
  struct DayTarget {
    Day day;
    Scope* scope;
    bool rolling;
  };
  DayTarget TargetFor(uint32_t shard, Day day, absl::Time now);
  // Adds a model's downloads on `day` everywhere it counts. Requires mutex_ (exclusive).
  void AddDownloads(uint32_t number, Day day, int64_t downloads);
  void AddDownloads(uint32_t number, const DayTarget& target, int64_t downloads);
  // A change record's downloads, in one shard. Requires mutex_ (exclusive).
  void AddRecordDownloads(uint32_t shard, const std::vector<DownloadsAdded>& downloads);
  // Fetches into the cache what AddRecordDownloads(shard, downloads) will change (the models'
  // entries and their counters in every scope they count in), changing nothing, so that the
  // exclusive hold that follows finds them there. Requires mutex_ (shared is enough).
  void WarmRecordDownloads(uint32_t shard, const std::vector<DownloadsAdded>& downloads) const;
  // Adds a model's late downloads to all time only. Requires mutex_ (exclusive).
  void AddAllTimeOnly(uint32_t number, int64_t downloads);
  // Adds a model's downloads in a folded month (first day). Requires mutex_ (exclusive).
  void AddMonthDownloads(uint32_t number, Day month, int64_t downloads);
  // Moves the shard's downloads on the month's days into the month. Requires mutex_ (exclusive).
  void FoldMonth(uint32_t shard, Day month);
  // Every day scope in first..last, then every folded month's scope with a day in it.
  // Requires mutex_.
  void ForEachScope(Day first, Day last,
                    absl::FunctionRef<void(const Scope& scope, uint64_t generation)> visit) const;
  // The scopes ForEachScope visits, as their generations, with what tells a changed layout.
  std::vector<std::pair<Day, uint64_t>> Signature(Day first, Day last) const;
  void Reclassify(uint32_t number, const ClassKey& before);
  void RebuildRolling(Day today);
  // The versions and their time. Requires mutex_.
  AsOf CurrentAsOf() const;
  // After the versions or readiness changed (`lock` holds mutex_): wakes WaitFor
  // and runs the waits now reached, releasing `lock` first.
  void Publish(WriteLock& lock);

  const uint32_t shard_count_;
  const ReadModelOptions options_;
  mutable std::shared_mutex mutex_;
  mutable std::condition_variable_any applied_;
  ModelTable table_;
  VersionVector versions_;
  bool ready_ = false;
  std::unique_ptr<Scope> all_time_;
  std::map<Day, std::unique_ptr<Scope>> days_;
  // Retention: per shard, the months it folded; their union; the folded downloads by month.
  std::vector<std::set<Day>> folded_;
  std::set<Day> folded_any_;
  std::map<Day, std::unique_ptr<Scope>> months_;
  // Grows whenever scopes move between days and months, so cached sums notice.
  uint64_t layout_epoch_ = 0;
  // All time's downloads on no day (late events counted into all time only): while there are
  // any, all time is more than the sum of the days.
  int64_t all_time_only_ = 0;
  std::map<Day, absl::Time> day_changed_;  // When each open day last changed.
  std::unique_ptr<Scope> rolling_;
  Day rolling_today_;  // The rolling window is [rolling_today_ - (rolling_days - 1), today].
  std::unique_ptr<RangeCache> ranges_;
  // Made on first use (in read_model_trend.cc, which alone knows the type).
  mutable std::once_flag period_tops_once_;
  mutable std::shared_ptr<PeriodTopCache> period_tops_;
  // Last, so it goes first: its timer thread, which may query the model, ends before the rest.
  VersionWaits waits_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_READ_MODEL_H_
