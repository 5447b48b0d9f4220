// The server's threads as the operating system sees them: named by what they do, and with
// --writer-rt-priority the read model's writer at a real-time priority while it holds the
// model's lock (refused at start, naming the reason, where the system does not allow it).
#include <dirent.h>
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "app/os_thread.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest_calls.h"
#include "redis_server.h"

namespace hubstats {
namespace {

using test_support::Connection;
using test_support::ServerProcess;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

// The names of the process's threads.
std::set<std::string> ThreadNames(pid_t pid) {
  std::set<std::string> names;
  const std::string tasks = absl::StrCat("/proc/", pid, "/task");
  DIR* dir = opendir(tasks.c_str());
  if (dir == nullptr) return names;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream comm(absl::StrCat(tasks, "/", entry->d_name, "/comm"));
    std::string name;
    std::getline(comm, name);
    names.insert(name);
  }
  closedir(dir);
  return names;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(SchedulingTest, ThreadsAreNamedByWhatTheyDo) {
  ServerProcess server(HUBSTATS_SERVER_PATH,
                       {"--store", "memory", "--workers", "2", "--ingest-workers", "3"});
  Connection connection(server.target());
  EXPECT_EQ(test_support::TotalDownloads(*connection.query), 0);
  EXPECT_THAT(ThreadNames(server.process().pid()),
              IsSupersetOf({"hs-query-0", "hs-query-1", "hs-ingest-0", "hs-ingest-2", "hs-commit",
                            "hs-follower", "hs-budget", "hs-waits"}));
}

TEST(SchedulingTest, AWriterPriorityOutOfRangeStopsTheServerWithTheRange) {
  const std::string output = test_support::ShellOutput(
      std::string(HUBSTATS_SERVER_PATH) +
      " --store memory --writer-rt-priority 50 --listen 127.0.0.1:0 2>&1; echo exit=$?");
  EXPECT_THAT(output, HasSubstr("--writer-rt-priority 50: real-time priority 50 is not "
                                "within 1-49"));
  EXPECT_THAT(output, Not(HasSubstr("exit=0")));
}

// Where the system allows real-time priorities (CI runs as root), the server starts with the
// flag, says so, and counts exactly; where it does not, it refuses to start and says why.
TEST(SchedulingTest, ABoostedWriterCountsExactlyOrTheServerSaysWhyNot) {
  const absl::Status allowed = RealtimeBoost::Check(1);
  if (!allowed.ok()) {
    const std::string output = test_support::ShellOutput(
        std::string(HUBSTATS_SERVER_PATH) +
        " --store memory --writer-rt-priority 1 --listen 127.0.0.1:0 2>&1; echo exit=$?");
    EXPECT_THAT(output, HasSubstr("--writer-rt-priority 1: the system refused"));
    EXPECT_THAT(output, Not(HasSubstr("exit=0")));
    return;
  }
  test_support::RedisServer redis;
  const std::string log = ::testing::TempDir() + "/scheduling_server.log";
  ServerProcess server(HUBSTATS_SERVER_PATH,
                       {"--store", "redis", "--redis", redis.url(), "--writer-rt-priority", "1"},
                       log);
  Connection connection(server.target());
  int64_t expected = 0;
  std::vector<v1::IngestRequest> batches;
  for (int i = 0; i < 20; ++i) {
    batches.push_back(test_support::Events(i + 1, absl::StrCat("org", i % 3, "/m", i)));
    expected += i + 1;  // Events of count 1 each.
  }
  const test_support::StreamResult result = test_support::Stream(connection.channel, batches);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(test_support::TotalDownloads(*connection.query), expected);
  EXPECT_THAT(Slurp(log), HasSubstr("the read model's writer runs at real-time priority 1"));
}

}  // namespace
}  // namespace hubstats
