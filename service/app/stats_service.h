// StatsService: the service logic behind every RPC, independent of gRPC and of the store.
//
// Ingest: validates events (naming fields as the API does), merges a commit window's batches
// into per-shard deltas by model index (assigning indexes to new models), and applies them
// through the Store with exactly-once marks. Catalog: validates records and writes them.
// Queries: answered from the ReadModel (this replica's in-memory view), exact at the versions
// each answer reports; a query may ask for a version it must reflect (read your writes), or for
// everything committed anywhere before it was sent (`fresh`). Tests drive it with a MemoryStore.
//
// Thread-safe (as the Store and the ReadModel are). Calls may block on the store or on the
// read model catching up: run them off gRPC's threads.
// Errors: INVALID_ARGUMENT with a field (see core/field_error.h) for bad arguments, NOT_FOUND
// for an unknown model, UNAVAILABLE when this replica is loading or has not reached a version a
// query asked for in time, and the store's errors (UNAVAILABLE, ...) unchanged.
#ifndef HUBSTATS_SERVICE_APP_STATS_SERVICE_H_
#define HUBSTATS_SERVICE_APP_STATS_SERVICE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "app/read_model.h"
#include "core/batch.h"
#include "core/catalog.h"
#include "core/day.h"
#include "core/event.h"
#include "core/modality.h"
#include "core/stats.h"
#include "core/trend.h"
#include "core/version.h"
#include "store/store.h"

namespace hubstats {

inline constexpr int kMaxBatchItems = 100'000;
inline constexpr int kDefaultTopN = 50;
inline constexpr int kMaxTopN = 10'000;

// Why one item of a batch was refused.
struct ItemRejection {
  int index = 0;
  std::string field;
  std::string reason;
};

struct IngestOutcome {
  int64_t accepted = 0;
  int64_t rejected = 0;
  int64_t accepted_downloads = 0;
  // Of `accepted`, late events counted into all time only (LatePolicy::kAllTimeOnly).
  int64_t accepted_all_time_only = 0;
  std::vector<ItemRejection> rejections;  // By index.
  // The batch had been committed before: nothing was applied now (counts are from validation).
  bool duplicate = false;
  // Versions holding the batch: a query with this min_version reflects it.
  VersionToken version;
};

// A batch validated and ready to commit (see StatsService::Prepare). Its events view the
// strings the RawEvents viewed (the request's), which must outlive the commit; the RawEvents
// themselves need not.
struct PreparedBatch {
  std::optional<BatchIdentity> identity;          // Digest filled in for client producers.
  std::vector<std::pair<int, ValidEvent>> valid;  // Index in the batch, event.
  // The valid events summed per model, day and revision (what is committed: a batch names its
  // popular models many times, and this merge runs on the stream's worker, not the committer).
  std::vector<ValidEvent> merged;
  std::vector<ItemRejection> rejections;  // Refused by validation.
  // Authors whose events would pass the exact limit, judged once when the batch is first
  // committed and kept for its retries (a retry must not judge against its own first part).
  std::optional<absl::flat_hash_set<std::string>> over_limit;
};

struct UpsertOutcome {
  int64_t accepted = 0;
  int64_t rejected = 0;
  int64_t reclassified = 0;
  std::vector<ItemRejection> rejections;  // By index.
  VersionToken version;
};

// The revisions row of downloads whose events named no revision.
inline constexpr absl::string_view kNoRevision = "(no revision)";
// The revisions row, over all time, of late downloads counted into all time only (their
// revision is not kept: revisions are counted per day).
inline constexpr absl::string_view kLateNoDay = "(late, no day)";

struct ModelStats {
  std::string model_id;
  std::string author;
  std::optional<CatalogRecord> record;
  ModelClass model_class;
  std::string size_class;  // Fine size class label, or "unknown".
  int64_t downloads_all_time = 0;
  int64_t downloads_in_range = 0;
  int64_t rank_all_time = 0;
  int64_t rank_in_range = 0;
  // Downloads in the range per revision, descending (ties by name); downloads of events
  // without a revision are the row kNoRevision, and over all time late downloads counted on no
  // day the row kLateNoDay, so the rows add up to downloads_in_range.
  std::vector<std::pair<std::string, int64_t>> revisions;
  std::vector<DayDownloads> days;
  // Folded months (retention) with downloads in the range, by their first day, oldest first.
  std::vector<DayDownloads> months;
};

// What a query must reflect, beyond what this replica has applied.
struct Freshness {
  // Versions the answer must include (an ingest acknowledgement's token).
  VersionToken min_version;
  // Everything committed anywhere before the query arrived.
  bool fresh = false;
};

// An answer and the versions it is exact at.
template <typename T>
struct Answer {
  T value;
  AsOf as_of;
};

// A trend's arguments (see StatsService::GetTrend).
struct TrendQuery {
  DayRange range;  // An absent end: the first (last) day with downloads.
  Granularity granularity = Granularity::kMonth;
  TrendDimension dimension = TrendDimension::kModality;
  std::vector<int64_t> boundaries;  // kSize only; empty: the report's 200M, 500M, 1B.
  std::optional<Modality> modality;
  int n = kDefaultTopN;  // Concentration only.
};

// A cross-tab's arguments (see StatsService::GetCrossTab).
struct CrossTabQuery {
  DayRange range;
  TrendDimension rows = TrendDimension::kArchitecture;
  TrendDimension columns = TrendDimension::kSize;
  std::vector<int64_t> boundaries;  // When one is the size; empty: the report's 200M, 500M, 1B.
  std::optional<Modality> modality;
};

struct StatsServiceOptions {
  // How long a query waits for this replica to reach the versions it asks for.
  absl::Duration max_version_wait = absl::Seconds(2);
  // How long a query's own reads of the store may take (per-model revisions).
  absl::Duration query_timeout = absl::Seconds(2);
  // Called after every commit that changed the store (the Follower's Nudge).
  std::function<void()> committed;
  // How late an event may come (core/event.h); by default any day since 2015.
  EventTimeLimits event_limits;
};

class StatsService {
 public:
  // `store`, `tasks` and `model` must outlive the service.
  StatsService(Store& store, const TaskTable& tasks, ReadModel& model,
               StatsServiceOptions options = {});

  uint32_t shard_count() const { return store_.shard_count(); }

  // Validates every event (received at `received`), applies the valid ones atomically per
  // shard and reports the rest: Prepare and CommitWindow for one batch.
  absl::StatusOr<IngestOutcome> Ingest(absl::Span<const RawEvent> events, absl::Time received,
                                       std::optional<BatchIdentity> identity = std::nullopt);

  // Validates a batch (CPU only; no store call). INVALID_ARGUMENT ("events") for more than
  // kMaxBatchItems events. A client producer's digest is filled in.
  absl::StatusOr<PreparedBatch> Prepare(absl::Span<const RawEvent> events, absl::Time received,
                                        std::optional<BatchIdentity> identity);

  // Commits prepared batches together (group commit): one check of their client producers,
  // indexes for their new models, one atomic apply per shard for all of them, one record of
  // the commits. Returns each batch's outcome, in order.
  //
  // With an identity a batch is applied at most once per shard however often it is retried,
  // and a client producer's batch is checked against what was committed: a committed batch
  // comes back as a duplicate without being applied; FAILED_PRECONDITION ("sequence") for a
  // sequence below the newest committed one that was never committed, or a committed sequence
  // with other events. A store error fails every batch not yet decided; they may be partly
  // applied, and committing them again with the same identities completes them exactly once.
  std::vector<absl::StatusOr<IngestOutcome>> CommitWindow(absl::Span<PreparedBatch* const> batches);

  // Notes the task table this replica classifies with in the store's settings; returns whether
  // it differs from the one noted before (replicas must run the same table to answer alike).
  absl::StatusOr<bool> NoteTaskTable();

  // Validates and writes records; the last record wins when a model appears twice.
  absl::StatusOr<UpsertOutcome> UpsertModels(absl::Span<const CatalogRecord> records);

  // A query's freshness without a thread waiting for it: for callers that run the query only
  // once `then` says so. Returns false, calling nothing, when there is nothing to wait for
  // (the model already reflects `freshness`): the query can run at once. Otherwise calls
  // `then` exactly once, possibly on another thread and possibly before returning: OK once
  // the model reflects `freshness`, or the error Await would give (UNAVAILABLE naming the
  // versions after max_version_wait, or while loading; a `fresh` query's store error). Reads
  // the store's versions for a `fresh` one (a store call). After OK, run the query with an
  // empty Freshness: the versions it asked for are in.
  bool AwaitAsync(const Freshness& freshness, absl::AnyInvocable<void(absl::Status)> then);

  absl::StatusOr<Answer<ModalityShare>> GetModalityShare(const DayRange& range,
                                                         const Freshness& freshness = {});
  // Empty `boundaries`: the report's 200M, 500M, 1B.
  absl::StatusOr<Answer<SizeDistribution>> GetSizeDistribution(const DayRange& range,
                                                               absl::Span<const int64_t> boundaries,
                                                               std::optional<Modality> modality,
                                                               const Freshness& freshness = {});
  // The first n (1..kMaxTopN) over the models `filter` admits (all, by default); shares are of
  // their downloads. INVALID_ARGUMENT: "n", "min_parameters" below 0, "max_parameters" not above
  // min_parameters, "author", "task" or "library" empty or over 128 bytes.
  absl::StatusOr<Answer<TopN>> GetTopN(const DayRange& range, RankBy by, const TopFilter& filter,
                                       int n, const Freshness& freshness = {});
  // `dimension` is kTask, kArchitecture or kLibrary.
  absl::StatusOr<Answer<Breakdown>> GetBreakdown(const DayRange& range, AggregateKind dimension,
                                                 std::optional<Modality> modality,
                                                 const Freshness& freshness = {});
  absl::StatusOr<Answer<Population>> GetTotals(const DayRange& range,
                                               const Freshness& freshness = {});
  // Per period of the range, what the matching range query answers, at one version.
  // INVALID_ARGUMENT: "range.end" before start, "range" over kMaxTrendPeriods periods,
  // "boundaries" (invalid, or given for another dimension), "n" (concentration, 1..kMaxTopN).
  // With an open end and no downloads in the range, the trend has no periods.
  absl::StatusOr<Answer<Trend>> GetTrend(const TrendQuery& query, const Freshness& freshness = {});
  // The downloads per pair of keys of two class dimensions, at one version. INVALID_ARGUMENT:
  // "rows" or "columns" (a concentration, or both the same), "boundaries" (invalid, or given
  // when neither dimension is the size).
  absl::StatusOr<Answer<CrossTab>> GetCrossTab(const CrossTabQuery& query,
                                               const Freshness& freshness = {});
  // Every model with downloads in the range that `filter` admits, in ranking order, at one
  // version; INVALID_ARGUMENT as GetTopN's filter. The export borrows the read model's names
  // (see ModelExport).
  absl::StatusOr<Answer<ModelExport>> ExportModels(const DayRange& range, const TopFilter& filter,
                                                   const Freshness& freshness = {});
  // NOT_FOUND when the model has neither downloads nor a catalog record.
  absl::StatusOr<Answer<ModelStats>> GetModelStats(absl::string_view model_id,
                                                   const DayRange& range,
                                                   const Freshness& freshness = {});

 private:
  // Sets `over_limit` of every batch of `to_apply` (indexes into `batches`) that has none yet:
  // the authors whose events it may not add because they would take the author's all-time
  // downloads past kMaxCounterValue. Reads the authors' totals from the store.
  absl::Status JudgeAuthorLimits(absl::Span<PreparedBatch* const> batches,
                                 absl::Span<const size_t> to_apply);
  // Gives every model of `windows` its index in its shard (from the read model, else the store).
  absl::Status Index(std::vector<WindowShard>& windows);
  // OK once the read model reflects `freshness` (waiting up to max_version_wait); UNAVAILABLE
  // naming the versions otherwise, or while the model is loading.
  absl::Status Await(const Freshness& freshness);
  // The versions `freshness` asks for (a `fresh` one reads the store's versions).
  absl::StatusOr<VersionToken> Wanted(const Freshness& freshness);
  // Await's error when `wanted` was not reached in time.
  absl::Status NotReached(const VersionToken& wanted) const;
  // Retention: OK when the range, and each of a trend's periods, has all days or none of every
  // folded month (ReadModel::CheckRange); else INVALID_ARGUMENT naming range.start, range.end
  // or granularity. Called before a query and again after it: a month folded meanwhile makes
  // that answer inexact, and folded months only accumulate, so a range kept after the answer
  // was kept while it was computed.
  absl::Status Kept(const DayRange& range, const std::vector<Period>& periods = {},
                    Granularity granularity = Granularity::kDay) const;

  Store& store_;
  const TaskTable& tasks_;
  ReadModel& model_;
  const StatsServiceOptions options_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_STATS_SERVICE_H_
