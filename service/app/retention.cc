#include "app/retention.h"

#include <utility>

#include "app/os_thread.h"

namespace hubstats {

Retention::Retention(Store& store, RetentionOptions options)
    : store_(store), options_(std::move(options)) {}

Retention::~Retention() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Retention::Start() {
  thread_ = std::thread([this] {
    NameThisThread("hs-retention");
    Run();
  });
}

absl::StatusOr<int> Retention::RunOnce() {
  const Day boundary = RetentionBoundary(Day::FromTime(options_.clock()), options_.days);
  int folded = 0;
  for (uint32_t shard = 0; shard < store_.shard_count(); ++shard) {
    // One month per call keeps each of the store's atomic steps small; a shard with years of
    // history to fold takes one call per month.
    while (true) {
      absl::StatusOr<std::optional<Day>> month = store_.FoldMonth(shard, boundary);
      if (!month.ok()) return month.status();
      if (!*month) break;
      ++folded;
      if (options_.on_fold) options_.on_fold(shard, **month);
    }
  }
  return folded;
}

void Retention::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    absl::StatusOr<int> folded = RunOnce();
    if (!folded.ok() && options_.on_error) options_.on_error(folded.status());
    lock.lock();
    wake_.wait_for(lock, absl::ToChronoNanoseconds(options_.interval),
                   [this] { return stopping_; });
  }
}

}  // namespace hubstats
