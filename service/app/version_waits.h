// VersionWaits: callbacks waiting for the read model to reach a version token, without holding
// a thread each (a query with min_version or fresh must not park a worker: on a few workers,
// two such queries against a lagging replica would stall every other query).
//
// The read model adds a wait when a token is not yet applied and, after each change to its
// versions, takes the waits they reach; a timer thread of its own ends the waits whose
// deadline passed. Each callback runs exactly once: with true when its token was reached (on
// the thread that took it, which runs it after releasing its locks), or with false once its
// deadline passed (on the timer thread, at most a few milliseconds late). Callbacks must not
// block: they hand their work to a pool.
//
// Thread-safe. The destructor drops the waits still pending without calling them (a server
// ends its calls before its read model).
#ifndef HUBSTATS_SERVICE_APP_VERSION_WAITS_H_
#define HUBSTATS_SERVICE_APP_VERSION_WAITS_H_

#include <condition_variable>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "core/version.h"

namespace hubstats {

class VersionWaits {
 public:
  using Callback = absl::AnyInvocable<void(bool reached)>;

  VersionWaits();
  ~VersionWaits();
  VersionWaits(const VersionWaits&) = delete;
  VersionWaits& operator=(const VersionWaits&) = delete;

  // Adds a wait for `token` until `deadline`. The caller checked that its versions do not
  // reach the token, under the lock it holds while it changes them and calls TakeReached.
  void Add(VersionToken token, absl::Time deadline, Callback then);
  // Removes and returns the callbacks whose tokens `versions` reaches, for the caller to run
  // with true once it released its locks.
  std::vector<Callback> TakeReached(const VersionVector& versions);
  size_t pending() const;

 private:
  struct Wait {
    VersionToken token;
    absl::Time deadline;
    Callback then;
  };
  void Run();

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::list<Wait> waits_;
  bool stopping_ = false;
  std::thread timer_;  // Last: starts after the members it uses.
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_VERSION_WAITS_H_
