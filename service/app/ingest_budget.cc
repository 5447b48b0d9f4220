#include "app/ingest_budget.h"

#include <algorithm>
#include <chrono>

#include "app/os_thread.h"

namespace hubstats {

IngestBudget::IngestBudget(size_t limit_bytes) : limit_(limit_bytes) {
  thread_ = std::thread([this] {
    NameThisThread("hs-budget");
    Run();
  });
}

IngestBudget::~IngestBudget() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

bool IngestBudget::TryHold(size_t bytes) {
  std::lock_guard lock(mutex_);
  if (bytes > limit_ - std::min(held_, limit_)) return false;
  held_ += bytes;
  peak_ = std::max(peak_, held_);
  return true;
}

void IngestBudget::Release(size_t bytes) {
  if (bytes == 0) return;
  {
    std::lock_guard lock(mutex_);
    held_ -= bytes;
    freed_ = true;
  }
  changed_.notify_all();
}

size_t IngestBudget::held() const {
  std::lock_guard lock(mutex_);
  return held_;
}

size_t IngestBudget::peak() const {
  std::lock_guard lock(mutex_);
  return peak_;
}

void IngestBudget::WhenRoom(std::function<void()> resume) {
  {
    std::lock_guard lock(mutex_);
    waiting_.push_back(std::move(resume));
  }
  changed_.notify_all();
}

void IngestBudget::Run() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait_for(lock, std::chrono::milliseconds(100),
                      [this] { return stopping_ || (!waiting_.empty() && freed_); });
    if (waiting_.empty()) {
      if (stopping_) return;
      continue;
    }
    // Everyone waiting gets a turn: a stream whose reservation fits reads on, one without
    // room waits again, a cancelled one finishes.
    freed_ = false;
    std::vector<std::function<void()>> ready;
    ready.swap(waiting_);
    lock.unlock();
    for (std::function<void()>& resume : ready) resume();
    lock.lock();
  }
}

}  // namespace hubstats
