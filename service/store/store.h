// The Store: where counters and the catalog live.
//
// A Store keeps, for all time and per UTC day: downloads per model, per author and per
// aggregate counter (see core/model_class.h), each also per modality; per model, downloads per
// day and per revision; and the catalog. Two implementations behave identically (one
// behavioural test suite runs on both): RedisStore (shared by every replica) and MemoryStore
// (one process; development and logic tests).
//
// Thread-safety: every method may be called from many threads at once.
// Errors: UNAVAILABLE or DEADLINE_EXCEEDED when the backing service cannot be reached (the
// caller may retry), DATA_LOSS when stored data is malformed, INTERNAL for bugs.
#ifndef HUBSTATS_SERVICE_STORE_STORE_H_
#define HUBSTATS_SERVICE_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/batch.h"
#include "core/catalog.h"
#include "core/day.h"
#include "core/delta.h"
#include "core/modality.h"
#include "core/model_class.h"
#include "core/stats.h"

namespace hubstats {

// The errors the contract above lets a caller retry: UNAVAILABLE and DEADLINE_EXCEEDED.
inline bool IsRetryableStoreError(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

enum class RankBy { kModel, kAuthor };

struct ApplyResult {
  // Authors whose events were not applied because their all-time downloads would pass
  // kMaxCounterValue. Everything else was applied.
  std::vector<std::string> overflowing_authors;
  // Shards skipped because an earlier attempt of the same batch had applied them.
  int shards_skipped = 0;
};

// One batch's part in a commit window: who sent it.
struct Contribution {
  std::string producer_id;
  uint64_t sequence = 0;
  bool from_client = true;  // Client producers' marks live 7 days, server stream ids' an hour.
  bool operator==(const Contribution&) const = default;
};

// One shard's share of a commit window: the merged counter changes of several batches, and
// the batches they came from.
struct WindowShard {
  ShardDelta delta;
  std::vector<Contribution> contributions;  // Empty: applied without marks.
};

struct WindowShardResult {
  // Not empty: nothing was written; these contributions had already been applied in this shard
  // (its mark for their producer is at or past their sequence). Take their events out of the
  // delta and apply the rest again.
  std::vector<Contribution> conflicts;
  // Authors whose events were left out (see ApplyResult).
  std::vector<std::string> overflowing_authors;
};

// Where a client's batch stands (see Store::CheckProducer).
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

// One catalog upsert: the record and the class the service computed for it.
struct CatalogEntry {
  CatalogRecord record;
  ModelClass model_class;
};

struct UpsertResult {
  int64_t reclassified = 0;  // Entries whose class differs from the stored one.
};

struct TopCandidates {
  // Downloads in the range (of the modality, when filtered): the whole the shares refer to.
  int64_t total_downloads = 0;
  // At most n entries, in ranking order (downloads descending, id ascending).
  std::vector<RankedEntry> entries;
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

struct RevisionDownloads {
  Day day;
  std::string revision;
  int64_t downloads = 0;
  bool operator==(const RevisionDownloads&) const = default;
};

struct ModelData {
  std::optional<CatalogRecord> record;  // nullopt: not catalogued.
  ModelClass model_class;               // ModelClass::Unknown() when not catalogued.
  int64_t downloads_all_time = 0;
  int64_t downloads_in_range = 0;
  // Rank by downloads (descending, ties by id) among all models, from 1; 0 without downloads.
  int64_t rank_all_time = 0;
  int64_t rank_in_range = 0;
  std::vector<DayDownloads> days;            // In the range, oldest first.
  std::vector<RevisionDownloads> revisions;  // In the range, by day then revision.
};

class Store {
 public:
  virtual ~Store() = default;

  // Number of logical shards; deltas must be built with it. Fixed for the store's lifetime.
  virtual uint32_t shard_count() const = 0;

  // Applies each shard's window delta atomically, classifying every model with the catalog as
  // it is at that moment. With contributions, each shard keeps per producer a mark (the highest
  // sequence it applied), checked and moved in the same atomic step: a shard whose mark is at
  // or past a contribution's sequence writes nothing and reports the conflict. So a batch
  // applied again after a failure - or by two replicas at once - counts once per shard. On
  // error some shards may have been applied and others not.
  virtual absl::StatusOr<std::vector<WindowShardResult>> ApplyWindow(
      absl::Span<const WindowShard> shards) = 0;

  // For client batches (from_client): whether each was committed before. Reads only.
  virtual absl::StatusOr<std::vector<ProducerVerdict>> CheckProducers(
      absl::Span<const BatchIdentity> identities) = 0;
  // Records client batches as committed, once their shards are applied.
  virtual absl::Status CommitProducers(absl::Span<const BatchIdentity> identities) = 0;

  // One batch: ApplyWindow with the batch as the only contribution of each shard; shards that
  // had applied it already are skipped (counted in shards_skipped).
  absl::StatusOr<ApplyResult> ApplyEvents(absl::Span<const ShardDelta> shards,
                                          const BatchIdentity* identity = nullptr);
  absl::StatusOr<ProducerVerdict> CheckProducer(const BatchIdentity& identity);
  absl::Status CommitProducer(const BatchIdentity& identity);

  // The all-time downloads of each author (0 for one without any), in order. Reads only.
  virtual absl::StatusOr<std::vector<int64_t>> ReadAuthorTotals(
      absl::Span<const absl::string_view> authors) = 0;

  // OK when the backing service answers (within its timeout).
  virtual absl::Status Ping() = 0;

  // Writes the entries (replacing each model's record) and moves the downloads of every model
  // whose class changed, all time and on every day, to its new class: atomically per shard.
  // Entries must be valid and have distinct model ids.
  virtual absl::StatusOr<UpsertResult> UpsertModels(absl::Span<const CatalogEntry> entries) = 0;

  // Aggregate counters summed over the range (all time when the range is open at both ends).
  virtual absl::StatusOr<AggregateCounts> ReadAggregates(const DayRange& range) = 0;

  // The n best-ranked models or authors in the range (of one modality, when given), with the
  // range's total downloads (of that modality). n >= 1.
  virtual absl::StatusOr<TopCandidates> ReadTop(const DayRange& range, RankBy by,
                                                std::optional<Modality> modality, int n) = 0;

  virtual absl::StatusOr<Population> ReadPopulation(const DayRange& range) = 0;

  // Calls `visit` with every catalog record, in no particular order, stopping at the first
  // error it returns (which is then returned). Records upserted meanwhile may be missed.
  // `visit` may call the store.
  virtual absl::Status ForEachCatalogRecord(
      const std::function<absl::Status(const CatalogRecord&)>& visit) = 0;

  // A small named value kept with the counters (e.g. the task table they were classified
  // with); "" when never written.
  virtual absl::StatusOr<std::string> ReadSetting(absl::string_view name) = 0;
  virtual absl::Status WriteSetting(absl::string_view name, absl::string_view value) = 0;

  // Everything known of one model (which need not exist: then all counts are 0 and `record`
  // is empty). `model_id` must be valid.
  virtual absl::StatusOr<ModelData> ReadModel(absl::string_view model_id,
                                              const DayRange& range) = 0;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_STORE_STORE_H_
