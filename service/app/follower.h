// Follower: feeds a ReadModel from the store. It loads every shard (a snapshot each), marks the
// model ready, then polls the shards' change logs and applies their records in order; a shard
// whose log has a gap (records dropped before they were read, or a store that went back) is
// loaded again. Nudge() polls at once (after this replica committed something).
//
// Thread-safe. Owns one thread from Start() until destruction.
#ifndef HUBSTATS_SERVICE_APP_FOLLOWER_H_
#define HUBSTATS_SERVICE_APP_FOLLOWER_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "app/read_model.h"
#include "store/store.h"

namespace hubstats {

struct FollowerOptions {
  absl::Duration poll_interval = absl::Milliseconds(10);
  size_t records_per_poll = 256;  // Per shard.
  // Called with every store failure (they are retried); for logs.
  std::function<void(const absl::Status&)> on_error;
};

class Follower {
 public:
  // `store` and `model` must outlive the follower.
  Follower(Store& store, ReadModel& model, FollowerOptions options = {});
  ~Follower();

  // Loads, then follows, on the follower's thread.
  void Start();
  // Polls now instead of at the next interval.
  void Nudge();

  // Loads every shard and applies what is pending, on the caller's thread (tests, tools).
  absl::Status CatchUp();

  // Shards loaded again after a gap, since start.
  int64_t reloads() const;

 private:
  void Run();
  absl::Status LoadAll();
  // Reads and applies one page of every shard's log; reloads shards with a gap. `more` is set
  // when a shard had more than a page.
  absl::Status Poll(bool* more);

  Store& store_;
  ReadModel& model_;
  const FollowerOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool nudged_ = false;
  bool stopping_ = false;
  int64_t reloads_ = 0;
  std::thread thread_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_FOLLOWER_H_
