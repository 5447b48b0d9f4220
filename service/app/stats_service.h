// StatsService: the service logic behind every RPC, independent of gRPC and of the store.
//
// It validates input (naming fields as the API does), classifies catalog records, folds
// events into per-shard deltas, calls the Store and turns its counters into answers with the
// core's stats math. Tests drive it directly with a MemoryStore.
//
// Thread-safe (as the Store is). Calls block on the store: run them off gRPC's threads.
// Errors: INVALID_ARGUMENT with a field (see core/field_error.h) for bad arguments,
// NOT_FOUND for an unknown model, and the store's errors (UNAVAILABLE, ...) unchanged.
#ifndef HUBSTATS_SERVICE_APP_STATS_SERVICE_H_
#define HUBSTATS_SERVICE_APP_STATS_SERVICE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/batch.h"
#include "core/catalog.h"
#include "core/day.h"
#include "core/event.h"
#include "core/modality.h"
#include "core/stats.h"
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
  std::vector<ItemRejection> rejections;  // By index.
  // The batch had been committed before: nothing was applied now (counts are from validation).
  bool duplicate = false;
};

// A batch validated and ready to commit (see StatsService::Prepare). Its events view the
// strings the RawEvents viewed (the request's), which must outlive the commit; the RawEvents
// themselves need not.
struct PreparedBatch {
  std::optional<BatchIdentity> identity;          // Digest filled in for client producers.
  std::vector<std::pair<int, ValidEvent>> valid;  // Index in the batch, event.
  std::vector<ItemRejection> rejections;          // Refused by validation.
  // Authors whose events would pass the exact limit, judged once when the batch is first
  // committed and kept for its retries (a retry must not judge against its own first part).
  std::optional<absl::flat_hash_set<std::string>> over_limit;
};

struct UpsertOutcome {
  int64_t accepted = 0;
  int64_t rejected = 0;
  int64_t reclassified = 0;
  std::vector<ItemRejection> rejections;  // By index.
};

// The revisions row of downloads whose events named no revision.
inline constexpr absl::string_view kNoRevision = "(no revision)";

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
  // without a revision are the row kNoRevision, so the rows add up to downloads_in_range.
  std::vector<std::pair<std::string, int64_t>> revisions;
  std::vector<DayDownloads> days;
};

class StatsService {
 public:
  // `store` and `tasks` must outlive the service.
  StatsService(Store& store, const TaskTable& tasks) : store_(store), tasks_(tasks) {}

  // Validates every event (received at `received`), applies the valid ones atomically per
  // shard and reports the rest: Prepare and CommitWindow for one batch.
  absl::StatusOr<IngestOutcome> Ingest(absl::Span<const RawEvent> events, absl::Time received,
                                       std::optional<BatchIdentity> identity = std::nullopt);

  // Validates a batch (CPU only; no store call). INVALID_ARGUMENT ("events") for more than
  // kMaxBatchItems events. A client producer's digest is filled in.
  absl::StatusOr<PreparedBatch> Prepare(absl::Span<const RawEvent> events, absl::Time received,
                                        std::optional<BatchIdentity> identity);

  // Commits prepared batches together (group commit): one check of their client producers,
  // one atomic apply per shard for all of them, one record of the commits. Returns each batch's
  // outcome, in order.
  //
  // With an identity a batch is applied at most once per shard however often it is retried,
  // and a client producer's batch is checked against what was committed: a committed batch
  // comes back as a duplicate without being applied; FAILED_PRECONDITION ("sequence") for a
  // sequence below the newest committed one that was never committed, or a committed sequence
  // with other events. A store error fails every batch not yet decided; they may be partly
  // applied, and committing them again with the same identities completes them exactly once.
  std::vector<absl::StatusOr<IngestOutcome>> CommitWindow(absl::Span<PreparedBatch* const> batches);

  // Makes the catalog follow the task table given at construction: when the store's records
  // were classified with another table (or none was recorded), re-classifies every record,
  // moving history like an upsert, then records this table. Returns the number of models whose
  // class changed. Run at start, before serving.
  absl::StatusOr<int64_t> ApplyTaskTable();

  // Validates and writes records; the last record wins when a model appears twice.
  absl::StatusOr<UpsertOutcome> UpsertModels(absl::Span<const CatalogRecord> records);

  absl::StatusOr<ModalityShare> GetModalityShare(const DayRange& range);
  // Empty `boundaries`: the report's 200M, 500M, 1B.
  absl::StatusOr<SizeDistribution> GetSizeDistribution(const DayRange& range,
                                                       absl::Span<const int64_t> boundaries,
                                                       std::optional<Modality> modality);
  // n in 1..kMaxTopN.
  absl::StatusOr<TopN> GetTopN(const DayRange& range, RankBy by, std::optional<Modality> modality,
                               int n);
  // `dimension` is kTask, kArchitecture or kLibrary.
  absl::StatusOr<Breakdown> GetBreakdown(const DayRange& range, AggregateKind dimension,
                                         std::optional<Modality> modality);
  absl::StatusOr<Population> GetTotals(const DayRange& range);
  // NOT_FOUND when the model has neither downloads nor a catalog record.
  absl::StatusOr<ModelStats> GetModelStats(absl::string_view model_id, const DayRange& range);

 private:
  // Sets `over_limit` of every batch of `to_apply` (indexes into `batches`) that has none yet:
  // the authors whose events it may not add because they would take the author's all-time
  // downloads past kMaxCounterValue. Reads the authors' totals from the store.
  absl::Status JudgeAuthorLimits(absl::Span<PreparedBatch* const> batches,
                                 absl::Span<const size_t> to_apply);

  Store& store_;
  const TaskTable& tasks_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_STATS_SERVICE_H_
