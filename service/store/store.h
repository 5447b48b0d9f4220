// The Store: the durable source of truth every replica shares.
//
// Per logical shard (shard = ShardOf(author)) a store keeps the facts, and only the facts:
//  * the shard's models: every model catalogued or with downloads, each with a small index
//    that is assigned once (when its record is first written or its first event arrives) and
//    never changed or reused, and its catalog record if it has one;
//  * downloads per model: all time, per UTC day, and per day and revision; days of months the
//    shard folded (retention, FoldMonth) per month instead: per month and per month and revision;
//  * downloads per author, all time (for the exact limit, kMaxCounterValue);
//  * producer marks and logs (exactly-once ingestion);
//  * a change log: one ChangeRecord per committed change, in the same atomic step as the change,
//    each with a Version that increases within the shard. It is kept for a while (a
//    minute by default) so replicas can follow it.
// Nothing derived is stored (classes, aggregates, rankings): every replica computes them from
// the facts and the current catalog (app/read_model.h). So a catalog change rewrites only the
// record, and counters are written once per model and day, whatever the model's class.
//
// Two implementations behave identically (one behavioural suite, store_test.cc, runs on both):
// RedisStore (shared by every replica) and MemoryStore (one process; development and tests).
//
// Thread-safety: every method may be called from many threads at once.
// Errors: UNAVAILABLE or DEADLINE_EXCEEDED when the backing service cannot be reached (the
// caller may retry), DATA_LOSS when stored data is malformed, INTERNAL for bugs.
#ifndef HUBSTATS_SERVICE_STORE_STORE_H_
#define HUBSTATS_SERVICE_STORE_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/batch.h"
#include "core/catalog.h"
#include "core/change_record.h"
#include "core/day.h"
#include "core/delta.h"
#include "core/version.h"

namespace hubstats {

// The errors the contract above lets a caller retry: UNAVAILABLE and DEADLINE_EXCEEDED.
inline bool IsRetryableStoreError(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

// One batch's part in a commit window: who sent it.
struct Contribution {
  std::string producer_id;
  uint64_t sequence = 0;
  bool from_client = true;  // Client producers' marks live 7 days, server stream ids' an hour.
  bool operator==(const Contribution&) const = default;
};

// One shard's share of a commit window: the merged downloads of several batches, by model
// index (every model must have its index: Store::AssignIndexes), and the batches they came
// from.
struct WindowShard {
  ShardDelta delta;
  std::vector<Contribution> contributions;  // Empty: applied without marks.
};

struct WindowShardResult {
  // Not empty: nothing was written; these contributions had already been applied in this shard
  // (its mark for their producer is at or past their sequence). Take their events out of the
  // delta and apply the rest again.
  std::vector<Contribution> conflicts;
  // Authors whose events were not applied because their all-time downloads would pass
  // kMaxCounterValue. Everything else was applied.
  std::vector<std::string> overflowing_authors;
  // The shard's version once the window was applied: the version of the change record written,
  // or, when nothing was written, a version at or past the one that holds what was applied.
  Version version;
};

// Where a client's batch stands (see Store::CheckProducers).
enum class ProducerCheck {
  kNew,              // Never committed: apply it.
  kDuplicate,        // Committed before with the same events (or older than the window).
  kOutOfOrder,       // Lower than the newest committed sequence, and never committed itself.
  kContentMismatch,  // Committed before with other events.
};
struct ProducerVerdict {
  ProducerCheck check = ProducerCheck::kNew;
  uint64_t newest_committed = 0;  // The producer's highest committed sequence; 0 if none.
};

// How long deduplication state lives (Redis keys expire; MemoryStore keeps it for its life).
inline constexpr int kProducerWindow = 10'000;              // Newest sequences kept per producer.
inline constexpr int64_t kProducerTtlSeconds = 7 * 86'400;  // After a producer's last batch.
inline constexpr int64_t kStreamMarkTtlSeconds = 3'600;     // Server-made per-stream ids.

struct UpsertResult {
  // Each entry's record before the upsert (nullopt: it had none), in order.
  std::vector<std::optional<CatalogRecord>> previous;
  // The shard versions that hold the upsert.
  VersionToken version;
};

// One shard's facts at one version: what a read model starts from.
struct ShardSnapshot {
  Version version;
  struct Model {
    uint32_t index = 0;
    std::string model_id;
    std::optional<CatalogRecord> record;
    int64_t all_time = 0;
  };
  std::vector<Model> models;  // Ascending index.
  struct DayCounts {
    Day day;
    std::vector<std::pair<uint32_t, int64_t>> downloads;  // Model index -> downloads (> 0).
  };
  std::vector<DayCounts> days;  // Ascending day; only days with downloads.
  // Every month the shard folded (FoldMonth), ascending, each by its first day, with its
  // downloads per model (> 0; may be none). Days of these months may still be in `days`: late
  // downloads added after the fold, which the next fold moves here; a month's downloads are the
  // sum of both.
  struct MonthCounts {
    Day month;
    std::vector<std::pair<uint32_t, int64_t>> downloads;  // Model index -> downloads (> 0).
  };
  std::vector<MonthCounts> months;
};

// The records a shard logged after a version.
struct ShardChanges {
  // True when records after the asked version are no longer kept (or the log went backwards,
  // as after Redis lost data): load the shard again instead.
  bool gap = false;
  std::vector<std::pair<Version, ChangeRecord>> records;  // Ascending version.
};

struct RevisionDownloads {
  Day day;  // With whole_month: the month's first day.
  std::string revision;
  int64_t downloads = 0;
  bool whole_month = false;  // Downloads of a folded month (FoldMonth), not of one day.
  bool operator==(const RevisionDownloads&) const = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // Number of logical shards; deltas must be built with it. Fixed for the store's lifetime.
  virtual uint32_t shard_count() const = 0;

  // The index of every model in `model_ids` (valid ids of one `shard`), assigning the next free
  // index to models that have none, atomically per shard; new ones are logged (ModelIndexed).
  // Two replicas assigning the same model at once get the same index.
  virtual absl::StatusOr<std::vector<uint32_t>> AssignIndexes(
      uint32_t shard, absl::Span<const std::string> model_ids) = 0;

  // Applies each shard's window delta atomically, logging it (DownloadsAdded) in the same step.
  // With contributions, each shard keeps per producer a mark (the highest sequence it applied),
  // checked and moved in the same atomic step: a shard whose mark is at or past a
  // contribution's sequence writes nothing and reports the conflict. So a batch applied again
  // after a failure - or by two replicas at once - counts once per shard. Authors whose
  // all-time downloads would pass kMaxCounterValue are left out (reported). On error some
  // shards may have been applied and others not.
  virtual absl::StatusOr<std::vector<WindowShardResult>> ApplyWindow(
      absl::Span<const WindowShard> shards) = 0;

  // The all-time downloads of each author (0 for one without any), in order. Reads only.
  virtual absl::StatusOr<std::vector<int64_t>> ReadAuthorTotals(
      absl::Span<const absl::string_view> authors) = 0;

  // For client batches (from_client): whether each was committed before. Reads only.
  virtual absl::StatusOr<std::vector<ProducerVerdict>> CheckProducers(
      absl::Span<const BatchIdentity> identities) = 0;
  // Records client batches as committed, once their shards are applied.
  virtual absl::Status CommitProducers(absl::Span<const BatchIdentity> identities) = 0;

  // Writes the records (valid, distinct model ids), replacing each model's record and assigning
  // indexes to new models, atomically per shard, and logs them (RecordWritten).
  virtual absl::StatusOr<UpsertResult> UpsertModels(absl::Span<const CatalogRecord> records) = 0;

  // One shard's facts, all at one version (atomically).
  virtual absl::StatusOr<ShardSnapshot> LoadShard(uint32_t shard) = 0;
  // For each (shard, version): the shard's records after that version, at most `limit` each.
  virtual absl::StatusOr<std::vector<ShardChanges>> ReadChanges(
      absl::Span<const std::pair<uint32_t, Version>> after, size_t limit) = 0;
  // The current version of every shard; by `deadline`, or UNAVAILABLE.
  virtual absl::StatusOr<VersionVector> ReadVersions(
      absl::Time deadline = absl::InfiniteFuture()) = 0;

  // Retention: folds the shard's oldest month of per-day detail that ends before `before` (a
  // first of month, else INVALID_ARGUMENT) into monthly totals: the month's downloads per model
  // and day become downloads per model and month, and per day and revision become per month and
  // revision. Atomic, and logged (ChangeRecord::folded_months) in the same step. Returns the
  // month folded (its first day), or nullopt when no day before `before` has detail left. Days
  // of a folded month that get downloads later (late events) keep them per day until the next
  // call folds them too. Replicas may call it at once: each month is folded once.
  virtual absl::StatusOr<std::optional<Day>> FoldMonth(uint32_t shard, Day before) = 0;

  // The downloads per day and revision of one model (shard and index) in `range`, by day then
  // revision; those of folded months per month (whole_month), for each month that has a day in
  // `range`. Finishes by `deadline` or fails with UNAVAILABLE.
  virtual absl::StatusOr<std::vector<RevisionDownloads>> ReadRevisions(uint32_t shard,
                                                                       uint32_t index,
                                                                       const DayRange& range,
                                                                       absl::Time deadline) = 0;

  // OK when the backing service answers (within its timeout).
  virtual absl::Status Ping() = 0;

  // A small named value kept with the counters; "" when never written.
  virtual absl::StatusOr<std::string> ReadSetting(absl::string_view name) = 0;
  virtual absl::Status WriteSetting(absl::string_view name, absl::string_view value) = 0;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_STORE_STORE_H_
