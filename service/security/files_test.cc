#include "security/files.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"

namespace hubstats {
namespace {

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/hubstats-files-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    directory_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = directory_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::string directory_;
};

TEST_F(FilesTest, ASecretLosesOneTrailingLineBreak) {
  EXPECT_EQ(*ReadSecretFile(Write("a", "pw\n")), "pw");
  EXPECT_EQ(*ReadSecretFile(Write("b", "pw\r\n")), "pw");
  EXPECT_EQ(*ReadSecretFile(Write("c", "pw")), "pw");
  EXPECT_EQ(*ReadSecretFile(Write("d", " pw \n\n")), " pw \n");
  EXPECT_EQ(ReadSecretFile(Write("e", "\n")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadSecretFile(directory_ + "/missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadWholeFile(directory_).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadWholeFile(Write("big", std::string(100, 'x')), 99).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(FilesTest, TheWatcherSeesRewritesAndSwappedSymlinks) {
  // The layout of a Kubernetes Secret volume: name -> ..data/name, ..data -> a dated folder.
  std::filesystem::create_directory(directory_ + "/v1");
  std::filesystem::create_directory(directory_ + "/v2");
  Write("v1/tokens", "one");
  Write("v2/tokens", "two");
  std::filesystem::create_directory_symlink("v1", directory_ + "/..data");
  std::filesystem::create_symlink("..data/tokens", directory_ + "/tokens");
  const std::string path = directory_ + "/tokens";

  std::mutex mutex;
  std::vector<std::string> seen;
  std::atomic<int> failures{0};
  FileWatcher watcher(
      path, absl::Milliseconds(10),
      [&](const std::string& content) {
        std::lock_guard lock(mutex);
        seen.push_back(content);
      },
      [&](const absl::Status&) { ++failures; });
  watcher.Start(*ReadWholeFile(path));
  auto wait_for = [&](size_t count) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard lock(mutex);
        if (seen.size() >= count) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  // Kubernetes' swap: a new link renamed over ..data.
  std::filesystem::create_directory_symlink("v2", directory_ + "/..data_tmp");
  std::filesystem::rename(directory_ + "/..data_tmp", directory_ + "/..data");
  ASSERT_TRUE(wait_for(1));
  // A rewrite in place.
  Write("v2/tokens", "three");
  ASSERT_TRUE(wait_for(2));
  // Gone for a while: reported once, the last content stays; back with other content.
  std::filesystem::remove(directory_ + "/v2/tokens");
  for (int i = 0; i < 500 && failures.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(failures.load(), 1);
  Write("v2/tokens", "four");
  ASSERT_TRUE(wait_for(3));
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen, (std::vector<std::string>{"two", "three", "four"}));
}

}  // namespace
}  // namespace hubstats
