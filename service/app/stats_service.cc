// StatsService's catalog and query paths (the ingest path is in stats_service_ingest.cc).
#include "app/stats_service.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/field_error.h"
#include "core/model_id.h"
#include "core/size_class.h"

namespace hubstats {

StatsService::StatsService(Store& store, const TaskTable& tasks, ReadModel& model,
                           StatsServiceOptions options)
    : store_(store), tasks_(tasks), model_(model), options_(std::move(options)) {}

absl::StatusOr<UpsertOutcome> StatsService::UpsertModels(absl::Span<const CatalogRecord> records) {
  if (records.size() > static_cast<size_t>(kMaxBatchItems)) {
    return InvalidFieldError(
        "models", absl::StrCat("at most ", kMaxBatchItems, " per request, got ", records.size(),
                               "; split the batch"));
  }
  UpsertOutcome outcome;
  // Later records replace earlier ones for the same model, as separate upserts would.
  absl::flat_hash_map<absl::string_view, size_t> last_index;
  for (size_t i = 0; i < records.size(); ++i) {
    absl::Status valid = ValidateRecord(records[i]);
    if (!valid.ok()) {
      outcome.rejections.push_back({static_cast<int>(i), FieldOf(valid), ReasonOf(valid)});
      continue;
    }
    ++outcome.accepted;
    last_index[records[i].model_id] = i;
  }
  std::vector<size_t> order;
  for (const auto& [model_id, index] : last_index) order.push_back(index);
  std::sort(order.begin(), order.end());
  std::vector<CatalogRecord> written;
  written.reserve(order.size());
  for (size_t index : order) written.push_back(records[index]);
  absl::StatusOr<UpsertResult> result = store_.UpsertModels(written);
  if (!result.ok()) return result.status();
  if (options_.committed) options_.committed();
  // A first record counts too: the model leaves the unknown class.
  for (size_t i = 0; i < written.size(); ++i) {
    const std::optional<CatalogRecord>& previous = result->previous[i];
    const ModelClass before = previous ? Classify(*previous, tasks_) : ModelClass::Unknown();
    if (before != Classify(written[i], tasks_)) ++outcome.reclassified;
  }
  outcome.rejected = static_cast<int64_t>(outcome.rejections.size());
  outcome.version = std::move(result->version);
  return outcome;
}

absl::StatusOr<bool> StatsService::NoteTaskTable() {
  constexpr absl::string_view kSetting = "task_table";
  const std::string fingerprint = tasks_.Fingerprint();
  absl::StatusOr<std::string> recorded = store_.ReadSetting(kSetting);
  if (!recorded.ok()) return recorded.status();
  if (*recorded == fingerprint) return false;
  if (absl::Status written = store_.WriteSetting(kSetting, fingerprint); !written.ok()) {
    return written;
  }
  return !recorded->empty();
}

absl::StatusOr<VersionToken> StatsService::Wanted(const Freshness& freshness) {
  VersionToken wanted = freshness.min_version;
  if (freshness.fresh) {
    // Everything committed anywhere before this query: the store's versions now.
    absl::StatusOr<VersionVector> versions =
        store_.ReadVersions(absl::Now() + options_.query_timeout);
    if (!versions.ok()) return versions.status();
    VersionToken now;
    for (uint32_t shard = 0; shard < versions->size(); ++shard) {
      now.shards.emplace_back(shard, (*versions)[shard]);
    }
    wanted.Merge(now);
  }
  return wanted;
}

absl::Status StatsService::NotReached(const VersionToken& wanted) const {
  if (!model_.ready()) {
    return absl::UnavailableError("this replica is still loading the counters; retry shortly");
  }
  VersionToken have;
  const VersionVector versions = model_.versions();
  for (const auto& [shard, version] : wanted.shards)
    have.shards.emplace_back(shard, versions[shard]);
  return absl::UnavailableError(
      absl::StrCat("this replica has not reached the versions asked for within ",
                   absl::FormatDuration(options_.max_version_wait), " (wants ", wanted.ToString(),
                   ", has ", have.ToString(), "); retry, here or on another replica"));
}

absl::Status StatsService::Await(const Freshness& freshness) {
  const absl::Time deadline = absl::Now() + options_.max_version_wait;
  absl::StatusOr<VersionToken> wanted = Wanted(freshness);
  if (!wanted.ok()) return wanted.status();
  if (model_.WaitFor(*wanted, deadline)) return absl::OkStatus();
  return NotReached(*wanted);
}

bool StatsService::AwaitAsync(const Freshness& freshness,
                              absl::AnyInvocable<void(absl::Status)> then) {
  const absl::Time deadline = absl::Now() + options_.max_version_wait;
  absl::StatusOr<VersionToken> wanted = Wanted(freshness);
  if (!wanted.ok()) {
    then(wanted.status());
    return true;
  }
  if (model_.Reached(*wanted)) return false;
  model_.WhenApplied(*wanted, deadline,
                     [this, wanted = *wanted, then = std::move(then)](bool reached) mutable {
                       then(reached ? absl::OkStatus() : NotReached(wanted));
                     });
  return true;
}

absl::StatusOr<Answer<ModalityShare>> StatsService::GetModalityShare(const DayRange& range,
                                                                     const Freshness& freshness) {
  if (absl::Status valid = ValidateDayRange(range); !valid.ok()) return valid;
  if (absl::Status fresh = Await(freshness); !fresh.ok()) return fresh;
  if (absl::Status kept = Kept(range); !kept.ok()) return kept;
  Answer<ModalityShare> answer;
  const AggregateCounts counts = model_.Aggregates(range, AggregateKind::kSize, answer.as_of);
  answer.value = ComputeModalityShare(counts);
  if (absl::Status kept = Kept(range); !kept.ok()) return kept;
  return answer;
}

absl::StatusOr<Answer<SizeDistribution>> StatsService::GetSizeDistribution(
    const DayRange& range, absl::Span<const int64_t> boundaries, std::optional<Modality> modality,
    const Freshness& freshness) {
  if (absl::Status valid = ValidateDayRange(range); !valid.ok()) return valid;
  if (boundaries.empty()) boundaries = kDefaultBoundaries;
  if (absl::Status valid = ValidateBoundaries(boundaries); !valid.ok()) return valid;
  if (absl::Status fresh = Await(freshness); !fresh.ok()) return fresh;
  if (absl::Status kept = Kept(range); !kept.ok()) return kept;
  Answer<SizeDistribution> answer;
  const SizeCounts sizes = model_.Sizes(
      range, std::vector<int64_t>(boundaries.begin(), boundaries.end()), modality, answer.as_of);
  answer.value = ComputeSizeDistribution(sizes.counts, boundaries, modality, sizes.below);
  if (absl::Status kept = Kept(range); !kept.ok()) return kept;
  return answer;
}

namespace {

// The filter's own rules (its names are not checked against the models: one nobody has
// matches nothing).
absl::Status ValidateTopFilter(const TopFilter& filter) {
  for (const auto& [field, value] :
       {std::pair{"author", &filter.author}, std::pair{"task", &filter.task},
        std::pair{"library", &filter.library}}) {
    if (*value && ((*value)->empty() || (*value)->size() > 128)) {
      return InvalidFieldError(field, "must be 1-128 bytes when given");
    }
  }
  if (filter.min_parameters && *filter.min_parameters < 0) {
    return InvalidFieldError("min_parameters",
                             absl::StrCat("must be 0 or more, got ", *filter.min_parameters));
  }
  if (filter.max_parameters && *filter.max_parameters <= filter.min_parameters.value_or(0)) {
    return InvalidFieldError("max_parameters", absl::StrCat("must be above min_parameters (",
                                                            filter.min_parameters.value_or(0),
                                                            "), got ", *filter.max_parameters));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Answer<TopN>> StatsService::GetTopN(const DayRange& range, RankBy by,
                                                   const TopFilter& filter, int n,
                                                   const Freshness& freshness) {
  if (absl::Status valid = ValidateDayRange(range); !valid.ok()) return valid;
  if (n < 1 || n > kMaxTopN) {
    return InvalidFieldError("n", absl::StrCat("must be between 1 and ", kMaxTopN, ", got ", n));
  }
  if (absl::Status valid = ValidateTopFilter(filter); !valid.ok()) return valid;
  if (absl::Status fresh = Await(freshness); !fresh.ok()) return fresh;
  if (absl::Status kept = Kept(range); !kept.ok()) return kept;
  Answer<TopN> answer;
  TopCandidates top = model_.Top(range, by, filter, n, answer.as_of);
  answer.value = ComputeTopN(std::move(top.entries), static_cast<size_t>(n), top.total_downloads);
  if (absl::Status kept = Kept(range); !kept.ok()) return kept;
  return answer;
}

absl::StatusOr<Answer<Breakdown>> StatsService::GetBreakdown(const DayRange& range,
                                                             AggregateKind dimension,
                                                             std::optional<Modality> modality,
                                                             const Freshness& freshness) {
  if (absl::Status valid = ValidateDayRange(range); !valid.ok()) return valid;
  if (dimension == AggregateKind::kSize) {
    return InvalidFieldError("dimension", "must be task, architecture or library");
  }
  if (absl::Status fresh = Await(freshness); !fresh.ok()) return fresh;
  if (absl::Status kept = Kept(range); !kept.ok()) return kept;
  Answer<Breakdown> answer;
  const AggregateCounts counts = model_.Aggregates(range, dimension, answer.as_of);
  answer.value = ComputeBreakdown(counts, dimension, modality);
  if (absl::Status kept = Kept(range); !kept.ok()) return kept;
  return answer;
}

absl::StatusOr<Answer<CrossTab>> StatsService::GetCrossTab(const CrossTabQuery& query,
                                                           const Freshness& freshness) {
  if (absl::Status valid = ValidateDayRange(query.range); !valid.ok()) return valid;
  if (absl::Status valid = ValidateCrossTabDimensions(query.rows, query.columns); !valid.ok()) {
    return valid;
  }
  const bool sized = query.rows == TrendDimension::kSize || query.columns == TrendDimension::kSize;
  if (!sized && !query.boundaries.empty()) {
    return InvalidFieldError("boundaries", "only apply when rows or columns is the size");
  }
  const std::vector<int64_t> boundaries =
      query.boundaries.empty()
          ? std::vector<int64_t>(kDefaultBoundaries.begin(), kDefaultBoundaries.end())
          : query.boundaries;
  if (absl::Status valid = ValidateBoundaries(boundaries); !valid.ok()) return valid;
  if (absl::Status fresh = Await(freshness); !fresh.ok()) return fresh;
  if (absl::Status kept = Kept(query.range); !kept.ok()) return kept;
  Answer<CrossTab> answer;
  const std::vector<CrossCount> counts = model_.CrossCounts(
      query.range, query.rows, query.columns, boundaries, query.modality, answer.as_of);
  answer.value = ComputeCrossTab(counts, query.rows, query.columns, boundaries, query.modality);
  if (absl::Status kept = Kept(query.range); !kept.ok()) return kept;
  return answer;
}

absl::StatusOr<Answer<ModelExport>> StatsService::ExportModels(const DayRange& range,
                                                               const TopFilter& filter,
                                                               const Freshness& freshness) {
  if (absl::Status valid = ValidateDayRange(range); !valid.ok()) return valid;
  if (absl::Status valid = ValidateTopFilter(filter); !valid.ok()) return valid;
  if (absl::Status fresh = Await(freshness); !fresh.ok()) return fresh;
  if (absl::Status kept = Kept(range); !kept.ok()) return kept;
  Answer<ModelExport> answer;
  answer.value = model_.Export(range, filter, answer.as_of);
  if (absl::Status kept = Kept(range); !kept.ok()) return kept;
  return answer;
}

absl::StatusOr<Answer<Population>> StatsService::GetTotals(const DayRange& range,
                                                           const Freshness& freshness) {
  if (absl::Status valid = ValidateDayRange(range); !valid.ok()) return valid;
  if (absl::Status fresh = Await(freshness); !fresh.ok()) return fresh;
  if (absl::Status kept = Kept(range); !kept.ok()) return kept;
  Answer<Population> answer;
  answer.value = model_.Totals(range, answer.as_of);
  if (absl::Status kept = Kept(range); !kept.ok()) return kept;
  return answer;
}

absl::Status StatsService::Kept(const DayRange& range, const std::vector<Period>& periods,
                                Granularity granularity) const {
  if (absl::Status kept = model_.CheckRange(range); !kept.ok()) return kept;
  for (const Period& period : periods) {
    if (model_.CheckRange({period.first, period.last}).ok()) continue;
    const std::vector<Day> folded = model_.FoldedMonths();
    const Day first_month = PeriodStart(period.first, Granularity::kMonth);
    const Day split = std::binary_search(folded.begin(), folded.end(), first_month)
                          ? first_month
                          : PeriodStart(period.last, Granularity::kMonth);
    const Day after = Day::FromNumber(PeriodEnd(folded.back(), Granularity::kMonth).number() + 1);
    return InvalidFieldError(
        "granularity",
        absl::StrCat("the ", GranularityName(granularity), " ", period.first.ToString(), "..",
                     period.last.ToString(), " splits ", split.ToString().substr(0, 7),
                     ", whose downloads are kept only as a monthly total (per-day detail past the "
                     "retention window is folded into months); ask for month periods, or start "
                     "the range on or after ",
                     after.ToString()));
  }
  return absl::OkStatus();
}

absl::StatusOr<Answer<Trend>> StatsService::GetTrend(const TrendQuery& query,
                                                     const Freshness& freshness) {
  if (absl::Status valid = ValidateDayRange(query.range); !valid.ok()) return valid;
  const bool concentration = query.dimension == TrendDimension::kTopModels ||
                             query.dimension == TrendDimension::kTopAuthors;
  absl::Span<const int64_t> boundaries = query.boundaries;
  if (query.dimension == TrendDimension::kSize) {
    if (boundaries.empty()) boundaries = kDefaultBoundaries;
    if (absl::Status valid = ValidateBoundaries(boundaries); !valid.ok()) return valid;
  } else if (!boundaries.empty()) {
    return InvalidFieldError("boundaries", "apply to the size dimension only");
  }
  if (concentration && (query.n < 1 || query.n > kMaxTopN)) {
    return InvalidFieldError("n",
                             absl::StrCat("must be between 1 and ", kMaxTopN, ", got ", query.n));
  }
  if (query.range.first && query.range.last) {
    const int64_t count = PeriodCount(*query.range.first, *query.range.last, query.granularity);
    if (count > kMaxTrendPeriods) {
      return InvalidFieldError(
          "range", absl::StrCat(query.range.ToString(), " holds ", count, " periods of a ",
                                GranularityName(query.granularity), "; at most ", kMaxTrendPeriods,
                                " per trend: choose a coarser granularity or "
                                "a shorter range"));
    }
  }
  if (absl::Status fresh = Await(freshness); !fresh.ok()) return fresh;
  if (absl::Status kept = Kept(query.range); !kept.ok()) return kept;
  Answer<Trend> answer;
  // An open end is the first (last) day with downloads in the range.
  DayRange range = query.range;
  if (!range.first || !range.last) {
    const Population span = model_.Totals(range, answer.as_of);
    if (!range.first) range.first = span.first_day;
    if (!range.last) range.last = span.last_day;
  }
  std::vector<Period> periods;
  if (range.first && range.last && *range.first <= *range.last) {
    const int64_t count = PeriodCount(*range.first, *range.last, query.granularity);
    if (count > kMaxTrendPeriods) {
      return InvalidFieldError(
          "range", absl::StrCat("the data's ", range.ToString(), " holds ", count, " periods of a ",
                                GranularityName(query.granularity), "; at most ", kMaxTrendPeriods,
                                " per trend: choose a coarser granularity or give a range"));
    }
    periods = PeriodsOf(*range.first, *range.last, query.granularity);
  }
  if (absl::Status kept = Kept(query.range, periods, query.granularity); !kept.ok()) return kept;
  if (concentration) {
    const RankBy by =
        query.dimension == TrendDimension::kTopModels ? RankBy::kModel : RankBy::kAuthor;
    std::vector<TopCandidates> candidates =
        model_.PeriodTops(periods, by, query.modality, query.n, answer.as_of);
    std::vector<PeriodTop> tops;
    tops.reserve(candidates.size());
    for (TopCandidates& top : candidates) {
      tops.push_back({std::move(top.entries), top.total_downloads});
    }
    answer.value =
        ComputeConcentrationTrend(periods, tops, query.dimension, query.n, query.granularity);
    if (absl::Status kept = Kept(query.range, periods, query.granularity); !kept.ok()) return kept;
    return answer;
  }
  const AggregateKind kind = query.dimension == TrendDimension::kTask ? AggregateKind::kTask
                             : query.dimension == TrendDimension::kArchitecture
                                 ? AggregateKind::kArchitecture
                             : query.dimension == TrendDimension::kLibrary ? AggregateKind::kLibrary
                                                                           : AggregateKind::kSize;
  if (query.dimension == TrendDimension::kSize) {
    std::vector<SizeCounts> sizes =
        model_.PeriodSizes(periods, std::vector<int64_t>(boundaries.begin(), boundaries.end()),
                           query.modality, answer.as_of);
    std::vector<AggregateCounts> counts;
    std::vector<std::vector<int64_t>> below;
    for (SizeCounts& period : sizes) {
      counts.push_back(std::move(period.counts));
      below.push_back(std::move(period.below));
    }
    answer.value = ComputeAggregateTrend(periods, counts, query.dimension, boundaries,
                                         query.modality, query.granularity, below);
    if (absl::Status kept = Kept(query.range, periods, query.granularity); !kept.ok()) return kept;
    return answer;
  }
  const std::vector<AggregateCounts> counts = model_.PeriodAggregates(periods, kind, answer.as_of);
  answer.value = ComputeAggregateTrend(periods, counts, query.dimension, boundaries, query.modality,
                                       query.granularity);
  if (absl::Status kept = Kept(query.range, periods, query.granularity); !kept.ok()) return kept;
  return answer;
}

absl::StatusOr<Answer<ModelStats>> StatsService::GetModelStats(absl::string_view model_id,
                                                               const DayRange& range,
                                                               const Freshness& freshness) {
  if (absl::Status valid = ValidateModelId(model_id); !valid.ok()) return valid;
  if (absl::Status valid = ValidateDayRange(range); !valid.ok()) return valid;
  if (absl::Status fresh = Await(freshness); !fresh.ok()) return fresh;
  if (absl::Status kept = Kept(range); !kept.ok()) return kept;
  Answer<ModelStats> answer;
  ModelView view = model_.Model(model_id, range, answer.as_of);
  if (!view.record && view.downloads_all_time == 0) {
    return absl::NotFoundError(
        absl::StrCat("model '", model_id, "' has no downloads and no catalog record"));
  }
  ModelStats& stats = answer.value;
  stats.model_id = std::string(model_id);
  stats.author = std::string(AuthorOf(model_id));
  stats.record = std::move(view.record);
  stats.model_class = std::move(view.model_class);
  stats.size_class = stats.model_class.size_bucket ? FineBucketLabel(*stats.model_class.size_bucket)
                                                   : std::string("unknown");
  stats.downloads_all_time = view.downloads_all_time;
  stats.downloads_in_range = view.downloads_in_range;
  stats.rank_all_time = view.rank_all_time;
  stats.rank_in_range = view.rank_in_range;
  stats.days = std::move(view.days);
  stats.months = std::move(view.months);
  // Revisions are the one thing queries read from the store (they are not kept in memory).
  absl::StatusOr<std::vector<RevisionDownloads>> revisions =
      store_.ReadRevisions(view.shard, view.index, range, absl::Now() + options_.query_timeout);
  if (!revisions.ok()) return revisions.status();
  std::map<std::string, int64_t> by_revision;
  int64_t with_revision = 0;
  for (const RevisionDownloads& revision : *revisions) {
    by_revision[revision.revision] += revision.downloads;
    with_revision += revision.downloads;
  }
  // Downloads without a revision get a row of their own, so the rows add up to the range's
  // downloads. Revisions are printable ASCII without spaces: the name cannot collide.
  const int64_t late = range.all_time() ? view.all_time_only : 0;
  if (late > 0) by_revision[std::string(kLateNoDay)] = late;
  if (stats.downloads_in_range > with_revision + late) {
    by_revision[std::string(kNoRevision)] = stats.downloads_in_range - with_revision - late;
  }
  stats.revisions.assign(by_revision.begin(), by_revision.end());
  std::stable_sort(stats.revisions.begin(), stats.revisions.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (absl::Status kept = Kept(range); !kept.ok()) return kept;
  return answer;
}

}  // namespace hubstats
