// CommitPlan: the bookkeeping of one commit window, without any store call (so it is tested on
// its own). StatsService::CommitWindow drives it with the store's answers:
//
//   1. ToCheck() / SetVerdicts(): client batches are checked against their producers' logs
//      (duplicates are answered as such, refused sequences get FAILED_PRECONDITION); a batch
//      sent twice in the window is decided once and its copy follows it.
//   2. ToApply(): the batches left. The caller judges their authors' exact limit
//      (PreparedBatch::over_limit).
//   3. BuildShards() / Applied(): the merged downloads per shard of the batches to apply, with
//      the batches as contributions; a shard that reports conflicts (batches an earlier attempt
//      applied there) is built again without them, until every shard went in.
//   4. Committed() / Outcomes(): the client batches to record, and every batch's answer.
//
// Not thread-safe. Views the batches, which must outlive the plan.
#ifndef HUBSTATS_SERVICE_APP_COMMIT_PLAN_H_
#define HUBSTATS_SERVICE_APP_COMMIT_PLAN_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "app/stats_service.h"

namespace hubstats {

class CommitPlan {
 public:
  CommitPlan(absl::Span<PreparedBatch* const> batches, uint32_t shard_count);

  // Step 1.
  const std::vector<BatchIdentity>& ToCheck() const { return to_check_; }
  void SetVerdicts(absl::Span<const ProducerVerdict> verdicts);

  // Step 2: indexes into the batches.
  const std::vector<size_t>& ToApply() const { return to_apply_; }

  // Step 3. The deltas' models have no index yet: the caller sets them. Empty once every shard
  // went in.
  std::vector<WindowShard> BuildShards();
  // The store's results for the shards BuildShards returned, in the same order.
  void Applied(absl::Span<const WindowShardResult> results);

  // Step 4. `duplicates_version`: versions that hold every committed batch (for the tokens of
  // duplicates). Undecided batches get `error` (when not OK) or are answered as applied.
  std::vector<BatchIdentity> Committed() const;
  std::vector<absl::StatusOr<IngestOutcome>> Outcomes(const absl::Status& error,
                                                      const VersionToken& duplicates_version);
  // Whether any batch was answered as a duplicate (then a version for them is needed).
  bool has_duplicates() const { return has_duplicates_; }

 private:
  bool Counted(size_t batch, const ValidEvent& event) const;

  absl::Span<PreparedBatch* const> batches_;
  const uint32_t shard_count_;
  std::vector<std::optional<absl::StatusOr<IngestOutcome>>> decided_;
  std::vector<int> copy_of_;  // -1, or the batch this one repeats.
  std::vector<BatchIdentity> to_check_;
  std::vector<size_t> checked_;  // The batch of each to_check_ entry.
  std::vector<size_t> to_apply_;
  bool has_duplicates_ = false;
  bool started_ = false;                      // BuildShards ran once.
  std::vector<std::vector<size_t>> members_;  // Per shard: batches with events there.
  std::vector<uint32_t> pending_;             // Shards to (re)apply.
  std::vector<uint32_t> built_;               // The shards of the last BuildShards.
  std::vector<absl::flat_hash_set<std::string>> overflowing_;  // Per batch.
  std::vector<VersionToken> versions_;                         // Per batch.
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_COMMIT_PLAN_H_
