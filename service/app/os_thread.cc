#include "app/os_thread.h"

#include <pthread.h>
#include <sched.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"

namespace hubstats {

void NameThisThread(absl::string_view name) {
  std::string kept(name.substr(0, 15));  // The kernel's limit, 16 bytes with the NUL.
  pthread_setname_np(pthread_self(), kept.c_str());
}

std::string ThisThreadName() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

RealtimeBoost::RealtimeBoost(int priority) {
  if (priority < 1 || priority > kMaxRealtimePriority) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat("real-time priority ", priority, " is not within 1-", kMaxRealtimePriority));
    return;
  }
  sched_param old{};
  pthread_getschedparam(pthread_self(), &old_policy_, &old);
  old_priority_ = old.sched_priority;
  const sched_param boosted{.sched_priority = priority};
  if (int error = pthread_setschedparam(pthread_self(), SCHED_FIFO, &boosted); error != 0) {
    status_ = absl::FailedPreconditionError(absl::StrCat(
        "the system refused real-time priority ", priority, " (SCHED_FIFO): ", std::strerror(error),
        error == EPERM ? " (it needs CAP_SYS_NICE or an RLIMIT_RTPRIO allowance)" : ""));
  }
}

RealtimeBoost::~RealtimeBoost() {
  if (!status_.ok()) return;
  const sched_param old{.sched_priority = old_priority_};
  // Lowering one's own priority is always allowed.
  pthread_setschedparam(pthread_self(), old_policy_, &old);
}

absl::Status RealtimeBoost::Check(int priority) {
  absl::Status status;
  // A thread of its own: the caller's scheduling is left as it was.
  std::thread([&] { status = RealtimeBoost(priority).status(); }).join();
  return status;
}

}  // namespace hubstats
