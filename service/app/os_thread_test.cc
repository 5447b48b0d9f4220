#include "app/os_thread.h"

#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

using ::testing::HasSubstr;

int ThisThreadPolicy() {
  int policy = -1;
  sched_param param{};
  pthread_getschedparam(pthread_self(), &policy, &param);
  return policy;
}

TEST(OsThreadTest, NamesTheThreadKeepingTheKernelsFifteenBytes) {
  std::thread([] {
    NameThisThread("hs-query-3");
    EXPECT_EQ(ThisThreadName(), "hs-query-3");
    NameThisThread("a-name-longer-than-fifteen");
    EXPECT_EQ(ThisThreadName(), "a-name-longer-t");
  }).join();
}

TEST(OsThreadTest, APriorityOutOfRangeIsRefusedWithTheRange) {
  for (int priority : {0, -1, kMaxRealtimePriority + 1}) {
    const absl::Status status = RealtimeBoost::Check(priority);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << priority;
    EXPECT_THAT(status.message(), HasSubstr("not within 1-49")) << status;
  }
}

TEST(OsThreadTest, ABoostLastsAsLongAsItsObjectAndPutsBackThePolicy) {
  if (absl::Status allowed = RealtimeBoost::Check(1); !allowed.ok()) {
    GTEST_SKIP() << "this process may not use real-time priorities: " << allowed;
  }
  std::thread([] {
    ASSERT_EQ(ThisThreadPolicy(), SCHED_OTHER);
    {
      RealtimeBoost boost(3);
      ASSERT_TRUE(boost.status().ok()) << boost.status();
      int policy = -1;
      sched_param param{};
      pthread_getschedparam(pthread_self(), &policy, &param);
      EXPECT_EQ(policy, SCHED_FIFO);
      EXPECT_EQ(param.sched_priority, 3);
    }
    EXPECT_EQ(ThisThreadPolicy(), SCHED_OTHER);
  }).join();
}

// In a child process (the test's own rights stay): drops CAP_SYS_NICE and any RLIMIT_RTPRIO
// allowance, asks for a boost, and exits 0 when it was refused with a status naming what is
// missing and the thread kept its policy.
[[noreturn]] void BoostWithoutTheCapability() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) != 0) std::_Exit(3);
  data[0].effective &= ~(1u << CAP_SYS_NICE);
  data[0].permitted &= ~(1u << CAP_SYS_NICE);
  if (syscall(SYS_capset, &header, data) != 0) std::_Exit(4);
  const rlimit no_realtime{0, 0};
  if (setrlimit(RLIMIT_RTPRIO, &no_realtime) != 0) std::_Exit(5);
  RealtimeBoost boost(1);
  const bool refused = boost.status().code() == absl::StatusCode::kFailedPrecondition &&
                       absl::StrContains(boost.status().message(), "CAP_SYS_NICE") &&
                       ThisThreadPolicy() == SCHED_OTHER;
  std::_Exit(refused ? 0 : 1);
}

TEST(OsThreadTest, WithoutTheCapabilityTheRefusalNamesIt) {
  EXPECT_EXIT(BoostWithoutTheCapability(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace hubstats
