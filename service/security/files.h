// Secrets and settings that live in files: reading them, and noticing when they change.
//
// Kubernetes updates a mounted Secret by swapping a symlink, editors and `kubectl cp` rewrite
// a file in place, operators `mv` a new file over the old one: FileWatcher notices all of these
// because it compares what the path reads to, not inode numbers or times.
#ifndef HUBSTATS_SERVICE_SECURITY_FILES_H_
#define HUBSTATS_SERVICE_SECURITY_FILES_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace hubstats {

// The whole file. NOT_FOUND / PERMISSION_DENIED / FAILED_PRECONDITION (not a regular file, or
// larger than `max_bytes`) naming the path.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path, size_t max_bytes = 1 << 20);

// A secret kept in a file (a password, a token): the file without one trailing line break.
// FAILED_PRECONDITION when it is empty.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

// Polls one file. Thread-safe; `changed` and `failed` run on the watcher's thread.
class FileWatcher {
 public:
  // `changed(content)` runs whenever the file reads differently from the last time, the same
  // on two polls in a row (so a file caught half rewritten is not reported; a change shows
  // within two intervals; the first content is the one given to Start); `failed(status)` when
  // it cannot be read (once per outage).
  FileWatcher(std::string path, absl::Duration interval,
              std::function<void(const std::string& content)> changed,
              std::function<void(const absl::Status& status)> failed);
  // Stops polling; waits for a callback in progress.
  ~FileWatcher();

  // Starts polling, taking `content` as what the file holds now.
  void Start(std::string content);

 private:
  void Run();

  const std::string path_;
  const absl::Duration interval_;
  const std::function<void(const std::string&)> changed_;
  const std::function<void(const absl::Status&)> failed_;
  std::string last_;
  std::mutex mutex_;
  std::condition_variable wakeup_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_SECURITY_FILES_H_
