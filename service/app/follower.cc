#include "app/follower.h"

#include "app/os_thread.h"

namespace hubstats {

Follower::Follower(Store& store, ReadModel& model, FollowerOptions options)
    : store_(store), model_(model), options_(std::move(options)) {}

Follower::~Follower() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Follower::Start() {
  thread_ = std::thread([this] {
    NameThisThread("hs-follower");
    Run();
  });
}

void Follower::Nudge() {
  {
    std::lock_guard lock(mutex_);
    nudged_ = true;
  }
  wake_.notify_all();
}

int64_t Follower::reloads() const {
  std::lock_guard lock(mutex_);
  return reloads_;
}

absl::Status Follower::LoadAll(FollowerProgress& progress) {
  for (uint32_t shard = 0; shard < store_.shard_count(); ++shard) {
    absl::StatusOr<ShardSnapshot> snapshot = store_.LoadShard(shard);
    if (!snapshot.ok()) return snapshot.status();
    model_.LoadShard(shard, *snapshot);
    ++progress.shards_loaded;
  }
  model_.SetReady();
  return absl::OkStatus();
}

absl::Status Follower::Poll(bool* more, FollowerProgress& progress) {
  *more = false;
  const VersionVector versions = model_.versions();
  std::vector<std::pair<uint32_t, Version>> after;
  after.reserve(versions.size());
  for (uint32_t shard = 0; shard < versions.size(); ++shard) {
    after.emplace_back(shard, versions[shard]);
  }
  absl::StatusOr<std::vector<ShardChanges>> changes =
      store_.ReadChanges(after, options_.records_per_poll);
  if (!changes.ok()) return changes.status();
  for (uint32_t shard = 0; shard < changes->size(); ++shard) {
    ShardChanges& log = (*changes)[shard];
    if (log.gap) {
      absl::StatusOr<ShardSnapshot> snapshot = store_.LoadShard(shard);
      if (!snapshot.ok()) return snapshot.status();
      model_.LoadShard(shard, *snapshot);
      ++progress.shards_reloaded;
      std::lock_guard lock(mutex_);
      ++reloads_;
      continue;
    }
    for (const auto& [version, record] : log.records) model_.Apply(shard, version, record);
    progress.records_applied += static_cast<int64_t>(log.records.size());
    if (log.records.size() >= options_.records_per_poll) *more = true;
  }
  return absl::OkStatus();
}

absl::Status Follower::CatchUp() {
  FollowerProgress progress;
  if (!model_.ready()) {
    if (absl::Status loaded = LoadAll(progress); !loaded.ok()) return loaded;
  }
  // Until a poll applies nothing more.
  bool more = true;
  while (more) {
    if (absl::Status polled = Poll(&more, progress); !polled.ok()) return polled;
  }
  progress.caught_up = true;
  if (options_.on_progress) options_.on_progress(progress);
  return absl::OkStatus();
}

void Follower::Run() {
  absl::Duration backoff = options_.poll_interval;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      if (stopping_) return;
    }
    bool more = false;
    FollowerProgress progress;
    absl::Status status = model_.ready() ? Poll(&more, progress) : LoadAll(progress);
    if (status.ok()) {
      model_.Maintain();
      // A load reads each shard at its own version: only a poll after it shows the model at
      // the store's version.
      progress.caught_up = !more && progress.shards_loaded == 0 && progress.shards_reloaded == 0;
      if (options_.on_progress) options_.on_progress(progress);
      backoff = options_.poll_interval;
      if (more) continue;  // Behind: read on without waiting.
    } else {
      if (options_.on_error) options_.on_error(status);
      backoff = std::min(backoff * 2, absl::Seconds(1));
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, absl::ToChronoMilliseconds(backoff), [&] { return stopping_ || nudged_; });
    nudged_ = false;
  }
}

}  // namespace hubstats
