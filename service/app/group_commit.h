// GroupCommitter: gathers prepared ingest batches from every stream into commit windows and
// commits each window with StatsService::CommitWindow (one atomic call per shard; the store
// applies shards side by side), then answers every batch in it.
//
// A window closes `window` after its first batch arrived, or as soon as it holds
// `max_window_events` events; while one window is being committed the next one fills, so under
// load windows grow to match the store's pace. While the store is unavailable a window is
// retried (its batches carry identities, so retrying is exact) for up to `store_retry_for`;
// meanwhile batches queue up and streams stop reading once the IngestBudget is spent.
//
// Thread-safe. Owns one thread. Batches are committed, and `done` called, in the order they
// were submitted.
#ifndef HUBSTATS_SERVICE_APP_GROUP_COMMIT_H_
#define HUBSTATS_SERVICE_APP_GROUP_COMMIT_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/time/time.h"
#include "app/stats_service.h"

namespace hubstats {

// Where ingest streams hand their prepared batches. GroupCommitter is the implementation;
// tests put fakes here to force interleavings.
class BatchCommitter {
 public:
  using Done = std::function<void(absl::StatusOr<IngestOutcome>)>;
  virtual ~BatchCommitter() = default;

  // Queues `batch` for commit; it must stay alive until `done` has run. `done` runs once, on
  // the committer's thread, and must not block. Batches are committed, and `done` called, in
  // the order they were submitted.
  virtual void Submit(PreparedBatch* batch, Done done) = 0;

  // Takes back a batch that was submitted and has not been taken into a commit yet: true when
  // it was taken back (its `done` will never run); false when it is being (or was) committed.
  virtual bool Withdraw(PreparedBatch* batch) = 0;
};

// What one commit window did (see GroupCommitOptions::on_window).
struct CommittedWindow {
  absl::Span<PreparedBatch* const> batches;
  absl::Span<const absl::StatusOr<IngestOutcome>> outcomes;  // One per batch, in order.
  int64_t events = 0;                                        // Valid events of its batches.
  absl::Duration filling;     // From its first batch's arrival until it closed.
  absl::Duration committing;  // The commit, store retries included.
  int retries = 0;
};

struct GroupCommitOptions {
  absl::Duration window = absl::Milliseconds(20);
  int64_t max_window_events = 500'000;
  absl::Duration store_retry_for = absl::Seconds(20);
  // Told of every window once it is committed, before its batches are answered, on the
  // committer's thread (for metrics): must be quick and must not block or call the committer.
  std::function<void(const CommittedWindow&)> on_window;
};

// Counters of what the committer did since it started; the server logs them when it stops.
struct GroupCommitStats {
  int64_t windows = 0;
  int64_t batches = 0;
  int64_t events = 0;
  int64_t retries = 0;
};

class GroupCommitter final : public BatchCommitter {
 public:
  GroupCommitter(StatsService& service, GroupCommitOptions options);
  // Commits what was submitted, then stops.
  ~GroupCommitter() override;

  // Queues `batch` for the next window (see BatchCommitter).
  void Submit(PreparedBatch* batch, Done done) override;
  bool Withdraw(PreparedBatch* batch) override;

  GroupCommitStats stats() const;

  // For shutdown: from `deadline` on, a window the store fails is not retried any more.
  void StopRetryingAt(absl::Time deadline);

 private:
  struct Entry {
    PreparedBatch* batch;
    Done done;
    absl::Time arrived;
  };
  void Run();
  // Commits one window, retrying while the store is unavailable; returns each outcome and
  // counts the retries in `retries`.
  std::vector<absl::StatusOr<IngestOutcome>> Commit(std::vector<PreparedBatch*>& batches,
                                                    int& retries);

  StatsService& service_;
  const GroupCommitOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Entry> queue_;
  int64_t queued_events_ = 0;
  bool stopping_ = false;
  absl::Time stop_retrying_at_ = absl::InfiniteFuture();
  GroupCommitStats stats_;
  std::thread thread_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_GROUP_COMMIT_H_
