#include "app/version_waits.h"

#include <algorithm>
#include <utility>

#include "app/os_thread.h"

namespace hubstats {

VersionWaits::VersionWaits()
    : timer_([this] {
        NameThisThread("hs-waits");
        Run();
      }) {}

VersionWaits::~VersionWaits() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  timer_.join();
}

void VersionWaits::Add(VersionToken token, absl::Time deadline, Callback then) {
  {
    std::lock_guard lock(mutex_);
    waits_.push_back(Wait{std::move(token), deadline, std::move(then)});
  }
  changed_.notify_all();  // The timer may need to wake sooner.
}

std::vector<VersionWaits::Callback> VersionWaits::TakeReached(const VersionVector& versions) {
  std::vector<Callback> reached;
  std::lock_guard lock(mutex_);
  for (auto it = waits_.begin(); it != waits_.end();) {
    if (it->token.ReachedBy(versions)) {
      reached.push_back(std::move(it->then));
      it = waits_.erase(it);
    } else {
      ++it;
    }
  }
  return reached;
}

size_t VersionWaits::pending() const {
  std::lock_guard lock(mutex_);
  return waits_.size();
}

void VersionWaits::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const absl::Time now = absl::Now();
    std::vector<Callback> expired;
    absl::Time next = absl::InfiniteFuture();
    for (auto it = waits_.begin(); it != waits_.end();) {
      if (it->deadline <= now) {
        expired.push_back(std::move(it->then));
        it = waits_.erase(it);
      } else {
        next = std::min(next, it->deadline);
        ++it;
      }
    }
    if (!expired.empty()) {
      // Outside the lock: a callback may add a wait, or take reached ones.
      lock.unlock();
      for (Callback& then : expired) then(false);
      lock.lock();
      continue;
    }
    if (next == absl::InfiniteFuture()) {
      changed_.wait(lock);
    } else {
      changed_.wait_until(lock, absl::ToChronoTime(next));
    }
  }
}

}  // namespace hubstats
