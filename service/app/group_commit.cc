#include "app/group_commit.h"

#include <algorithm>

#include "app/os_thread.h"
#include "store/store.h"

namespace hubstats {

GroupCommitter::GroupCommitter(StatsService& service, GroupCommitOptions options)
    : service_(service), options_(options) {
  thread_ = std::thread([this] {
    NameThisThread("hs-commit");
    Run();
  });
}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void GroupCommitter::Submit(PreparedBatch* batch, Done done) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({batch, std::move(done), absl::Now()});
    queued_events_ += static_cast<int64_t>(batch->valid.size());
  }
  changed_.notify_all();
}

bool GroupCommitter::Withdraw(PreparedBatch* batch) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(queue_.begin(), queue_.end(),
                         [batch](const Entry& entry) { return entry.batch == batch; });
  if (it == queue_.end()) return false;
  queued_events_ -= static_cast<int64_t>(batch->valid.size());
  queue_.erase(it);
  return true;
}

void GroupCommitter::StopRetryingAt(absl::Time deadline) {
  std::lock_guard lock(mutex_);
  stop_retrying_at_ = deadline;
}

GroupCommitStats GroupCommitter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void GroupCommitter::Run() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // Stopping, and everything was committed.
    // Let the window fill: until `window` after its first batch, or until it is full.
    const auto close_at = absl::ToChronoTime(queue_.front().arrived + options_.window);
    changed_.wait_until(lock, close_at, [this] {
      return stopping_ || queued_events_ >= options_.max_window_events;
    });
    std::vector<Entry> window;
    int64_t events = 0;
    while (!queue_.empty() && (window.empty() || events < options_.max_window_events)) {
      events += static_cast<int64_t>(queue_.front().batch->valid.size());
      window.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_events_ -= events;
    lock.unlock();

    std::vector<PreparedBatch*> batches;
    batches.reserve(window.size());
    for (const Entry& entry : window) batches.push_back(entry.batch);
    const absl::Time closed = absl::Now();
    int retries = 0;
    std::vector<absl::StatusOr<IngestOutcome>> outcomes = Commit(batches, retries);
    if (options_.on_window) {
      options_.on_window({.batches = batches,
                          .outcomes = outcomes,
                          .events = events,
                          .filling = closed - window.front().arrived,
                          .committing = absl::Now() - closed,
                          .retries = retries});
    }
    for (size_t i = 0; i < window.size(); ++i) window[i].done(std::move(outcomes[i]));

    lock.lock();
    ++stats_.windows;
    stats_.batches += static_cast<int64_t>(window.size());
    stats_.events += events;
  }
}

std::vector<absl::StatusOr<IngestOutcome>> GroupCommitter::Commit(
    std::vector<PreparedBatch*>& batches, int& retries) {
  std::vector<absl::StatusOr<IngestOutcome>> outcomes = service_.CommitWindow(batches);
  const absl::Time give_up = absl::Now() + options_.store_retry_for;
  absl::Duration backoff = absl::Milliseconds(50);
  while (true) {
    // The batches the store failed on (all undecided ones fail together), in order.
    std::vector<size_t> failed;
    for (size_t i = 0; i < outcomes.size(); ++i) {
      if (!outcomes[i].ok() && IsRetryableStoreError(outcomes[i].status())) failed.push_back(i);
    }
    absl::Time stop_at;
    {
      std::lock_guard lock(mutex_);
      stop_at = std::min(give_up, stop_retrying_at_);
    }
    if (failed.empty() || absl::Now() + backoff > stop_at) break;
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(1));
    std::vector<PreparedBatch*> again;
    for (size_t i : failed) again.push_back(batches[i]);
    std::vector<absl::StatusOr<IngestOutcome>> retried = service_.CommitWindow(again);
    for (size_t k = 0; k < failed.size(); ++k) outcomes[failed[k]] = std::move(retried[k]);
    ++retries;
    std::lock_guard lock(mutex_);
    ++stats_.retries;
  }
  return outcomes;
}

}  // namespace hubstats
