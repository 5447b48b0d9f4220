#include "security/files.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace hubstats {

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, size_t max_bytes) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    const std::string why = std::strerror(errno);
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": ", why));
    if (errno == EACCES) return absl::PermissionDeniedError(absl::StrCat(path, ": ", why));
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", why));
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": not a regular file"));
  }
  if (static_cast<size_t>(info.st_size) > max_bytes) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": larger than ", max_bytes, " bytes"));
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::PermissionDeniedError(absl::StrCat(path, ": cannot be opened for reading"));
  }
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  absl::StatusOr<std::string> content = ReadWholeFile(path, 64 << 10);
  if (!content.ok()) return content.status();
  absl::string_view secret = *content;
  // `echo secret > file` and Secrets made from files end with a line break that is not part
  // of the secret.
  if (absl::ConsumeSuffix(&secret, "\n")) absl::ConsumeSuffix(&secret, "\r");
  if (secret.empty()) return absl::FailedPreconditionError(absl::StrCat(path, ": empty"));
  return std::string(secret);
}

FileWatcher::FileWatcher(std::string path, absl::Duration interval,
                         std::function<void(const std::string&)> changed,
                         std::function<void(const absl::Status&)> failed)
    : path_(std::move(path)),
      interval_(interval),
      changed_(std::move(changed)),
      failed_(std::move(failed)) {}

FileWatcher::~FileWatcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wakeup_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FileWatcher::Start(std::string content) {
  last_ = std::move(content);
  thread_ = std::thread([this] { Run(); });
}

void FileWatcher::Run() {
  bool failing = false;
  // A content is reported once two reads in a row agree: a file rewritten in place can be read
  // between its truncation and its write (seen as an empty tokens file, which would have
  // revoked every token until the next poll).
  std::optional<std::string> candidate;
  std::unique_lock lock(mutex_);
  while (
      !wakeup_.wait_for(lock, absl::ToChronoNanoseconds(interval_), [this] { return stopping_; })) {
    lock.unlock();
    absl::StatusOr<std::string> content = ReadWholeFile(path_);
    if (!content.ok()) {
      if (!failing && failed_) failed_(content.status());
      failing = true;
    } else {
      failing = false;
      if (*content == last_) {
        candidate.reset();
      } else if (candidate == *content) {
        candidate.reset();
        last_ = *std::move(content);
        changed_(last_);
      } else {
        candidate = *std::move(content);
      }
    }
    lock.lock();
  }
}

}  // namespace hubstats
