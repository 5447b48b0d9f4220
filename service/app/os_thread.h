// What the operating system knows of a server thread: its name and how it is scheduled.
//
// NameThisThread names the calling thread, as `top -H`, `perf` and /proc/PID/task/*/comm
// show it. RealtimeBoost runs the calling thread at a real-time priority (SCHED_FIFO) for as
// long as it lives: the read model's writer takes it while it holds its lock exclusively, so
// that on a busy machine the scheduler does not park the one thread every query is waiting
// for (docs/DESIGN.md, "The writer lock and the scheduler").
//
// Thread-compatible: each call changes only the calling thread.
#ifndef HUBSTATS_SERVICE_APP_OS_THREAD_H_
#define HUBSTATS_SERVICE_APP_OS_THREAD_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace hubstats {

// Names the calling thread; the kernel keeps the first 15 bytes.
void NameThisThread(absl::string_view name);
// The calling thread's name.
std::string ThisThreadName();

// Highest real-time priority a RealtimeBoost may take: far below the kernel's own threads.
inline constexpr int kMaxRealtimePriority = 49;

// While alive, the thread that made it runs under SCHED_FIFO at `priority` (1 to
// kMaxRealtimePriority); its destructor puts back the policy and priority it had. Must be
// destroyed on the thread that made it. When the system refuses (no CAP_SYS_NICE and no
// RLIMIT_RTPRIO allowance), the thread runs on as it was and status() says why.
class RealtimeBoost {
 public:
  explicit RealtimeBoost(int priority);
  ~RealtimeBoost();
  RealtimeBoost(const RealtimeBoost&) = delete;
  RealtimeBoost& operator=(const RealtimeBoost&) = delete;

  // OK when boosted; else FAILED_PRECONDITION (refused by the system) or INVALID_ARGUMENT
  // (priority out of range), naming the priority and the reason.
  const absl::Status& status() const { return status_; }

  // Whether this process may boost threads to `priority`: tries it on a short-lived thread.
  // The status a RealtimeBoost(priority) would have.
  static absl::Status Check(int priority);

 private:
  absl::Status status_;
  int old_policy_ = 0;
  int old_priority_ = 0;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_OS_THREAD_H_
