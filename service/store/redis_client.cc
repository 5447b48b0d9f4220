#include "store/redis_client.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace hubstats {
std::string RedisEndpoint::ToDisplayString() const {
  std::string auth;
  if (!password.empty()) auth = absl::StrCat(username, ":***@");
  return absl::StrCat("redis://", auth, host, ":", port, "/", db);
}

std::string RedactRedisUrl(absl::string_view url) {
  const size_t scheme = url.find("://");
  const size_t start = scheme == absl::string_view::npos ? 0 : scheme + 3;
  const size_t at = url.rfind('@');
  if (at == absl::string_view::npos || at < start) return std::string(url);
  const absl::string_view credentials = url.substr(start, at - start);
  const size_t colon = credentials.find(':');
  const absl::string_view user =
      colon == absl::string_view::npos ? absl::string_view() : credentials.substr(0, colon);
  return absl::StrCat(url.substr(0, start), user, ":***", url.substr(at));
}

absl::StatusOr<RedisEndpoint> ParseRedisUrl(absl::string_view url) {
  const std::string shown = RedactRedisUrl(url);
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis URL '", shown, "': ", why,
                     " (expected redis://[[username]:password@]host[:port][/db])"));
  };
  if (!absl::ConsumePrefix(&url, "redis://")) return bad("must start with redis://");
  RedisEndpoint endpoint;
  if (size_t at = url.rfind('@'); at != absl::string_view::npos) {
    absl::string_view credentials = url.substr(0, at);
    url.remove_prefix(at + 1);
    size_t colon = credentials.find(':');
    if (colon == absl::string_view::npos) return bad("credentials must be [username]:password");
    endpoint.username = std::string(credentials.substr(0, colon));
    endpoint.password = std::string(credentials.substr(colon + 1));
  }
  if (size_t slash = url.find('/'); slash != absl::string_view::npos) {
    absl::string_view db = url.substr(slash + 1);
    url = url.substr(0, slash);
    if (!db.empty() && (!absl::SimpleAtoi(db, &endpoint.db) || endpoint.db < 0)) {
      return bad("db must be a non-negative number");
    }
  }
  if (size_t colon = url.rfind(':'); colon != absl::string_view::npos) {
    if (!absl::SimpleAtoi(url.substr(colon + 1), &endpoint.port) || endpoint.port <= 0 ||
        endpoint.port > 65535) {
      return bad("port must be 1-65535");
    }
    url = url.substr(0, colon);
  }
  if (url.empty()) return bad("host is missing");
  endpoint.host = std::string(url);
  return endpoint;
}

RedisReply& RedisReply::operator=(RedisReply&& other) noexcept {
  if (this != &other) {
    if (reply_) freeReplyObject(reply_);
    reply_ = std::exchange(other.reply_, nullptr);
  }
  return *this;
}

RedisReply::~RedisReply() {
  if (reply_) freeReplyObject(reply_);
}

bool RedisReply::is_error() const { return reply_ && reply_->type == REDIS_REPLY_ERROR; }
bool RedisReply::is_nil() const { return !reply_ || reply_->type == REDIS_REPLY_NIL; }

std::string RedisReply::error() const {
  return is_error() ? std::string(reply_->str, reply_->len) : std::string();
}

absl::StatusOr<std::unique_ptr<RedisConnection>> RedisConnection::Connect(
    const RedisEndpoint& endpoint, absl::Duration connect_timeout, absl::Duration command_timeout) {
  redisContext* context =
      redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port,
                              absl::ToTimeval(std::max(connect_timeout, absl::Milliseconds(1))));
  if (context == nullptr) return absl::ResourceExhaustedError("cannot allocate a redis context");
  if (context->err) {
    absl::Status status = absl::UnavailableError(
        absl::StrCat("cannot connect to ", endpoint.ToDisplayString(), ": ", context->errstr));
    redisFree(context);
    return status;
  }
  redisSetTimeout(context, absl::ToTimeval(command_timeout));
  std::unique_ptr<RedisConnection> connection(new RedisConnection(context));
  auto setup = [&](const std::vector<std::string>& args, absl::string_view what) -> absl::Status {
    absl::StatusOr<RedisReply> reply = connection->Command(args);
    if (!reply.ok()) return reply.status();
    if (reply->is_error()) {
      return absl::PermissionDeniedError(
          absl::StrCat(what, " on ", endpoint.ToDisplayString(), " failed: ", reply->error()));
    }
    return absl::OkStatus();
  };
  if (!endpoint.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!endpoint.username.empty()) auth.push_back(endpoint.username);
    auth.push_back(endpoint.password);
    if (absl::Status status = setup(auth, "AUTH"); !status.ok()) return status;
  }
  if (endpoint.db != 0) {
    if (absl::Status status = setup({"SELECT", absl::StrCat(endpoint.db)}, "SELECT");
        !status.ok()) {
      return status;
    }
  }
  return connection;
}

RedisConnection::~RedisConnection() { redisFree(context_); }

absl::Status RedisConnection::IoError(absl::string_view what) {
  broken_ = true;
  const bool timed_out = context_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
  const std::string message =
      absl::StrCat("redis ", what, " failed: ", timed_out ? "timed out" : context_->errstr);
  return timed_out ? absl::DeadlineExceededError(message) : absl::UnavailableError(message);
}

void RedisConnection::SetTimeout(absl::Duration timeout) {
  redisSetTimeout(context_, absl::ToTimeval(std::max(timeout, absl::Milliseconds(1))));
}

absl::StatusOr<RedisReply> RedisConnection::Command(const std::vector<std::string>& args) {
  Append(args);
  return GetReply();
}

void RedisConnection::Append(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> argv_lengths;
  argv.reserve(args.size());
  argv_lengths.reserve(args.size());
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    argv_lengths.push_back(arg.size());
  }
  // Only fails on out-of-memory, which GetReply then reports through context_->err.
  redisAppendCommandArgv(context_, static_cast<int>(args.size()), argv.data(), argv_lengths.data());
}

void RedisConnection::Append(std::initializer_list<absl::string_view> args) {
  Append(absl::MakeConstSpan(args.begin(), args.size()));
}

void RedisConnection::Append(absl::Span<const absl::string_view> args) {
  constexpr size_t kInline = 16;
  const char* inline_argv[kInline];
  size_t inline_lengths[kInline];
  std::vector<const char*> heap_argv;
  std::vector<size_t> heap_lengths;
  const char** argv = inline_argv;
  size_t* lengths = inline_lengths;
  if (args.size() > kInline) {
    heap_argv.resize(args.size());
    heap_lengths.resize(args.size());
    argv = heap_argv.data();
    lengths = heap_lengths.data();
  }
  for (size_t i = 0; i < args.size(); ++i) {
    argv[i] = args[i].data();
    lengths[i] = args[i].size();
  }
  redisAppendCommandArgv(context_, static_cast<int>(args.size()), argv, lengths);
}

absl::StatusOr<RedisReply> RedisConnection::GetReply() {
  if (broken_) return absl::UnavailableError("redis connection is broken");
  void* reply = nullptr;
  if (redisGetReply(context_, &reply) != REDIS_OK || reply == nullptr) return IoError("command");
  return RedisReply(static_cast<redisReply*>(reply));
}

RedisPool::RedisPool(RedisEndpoint endpoint, int size, absl::Duration connect_timeout,
                     absl::Duration command_timeout)
    : endpoint_(std::move(endpoint)),
      size_(size),
      connect_timeout_(connect_timeout),
      command_timeout_(command_timeout) {}

RedisPool::Lease::~Lease() {
  if (connection_) pool_->Release(std::move(connection_));
}

absl::StatusOr<RedisPool::Lease> RedisPool::Acquire(absl::Time deadline) {
  const absl::Time start = absl::Now();
  std::unique_lock lock(mutex_);
  const absl::Duration wait = std::min(connect_timeout_ + command_timeout_, deadline - start);
  if (!released_.wait_for(lock, absl::ToChronoMilliseconds(std::max(wait, absl::ZeroDuration())),
                          [&] { return !idle_.empty() || leased_ < size_; })) {
    return absl::UnavailableError("all redis connections are busy");
  }
  ++leased_;
  std::unique_ptr<RedisConnection> connection;
  if (!idle_.empty()) {
    connection = std::move(idle_.back());
    idle_.pop_back();
  } else {
    lock.unlock();
    absl::StatusOr<std::unique_ptr<RedisConnection>> dialled = RedisConnection::Connect(
        endpoint_, std::min(connect_timeout_, deadline - absl::Now()), command_timeout_);
    if (!dialled.ok()) {
      lock.lock();
      --leased_;
      released_.notify_one();
      return dialled.status();
    }
    connection = *std::move(dialled);
  }
  // Every lease sets the timeout, so a connection used before with a deadline forgets it.
  connection->SetTimeout(std::min(command_timeout_, deadline - absl::Now()));
  return Lease(this, std::move(connection));
}

void RedisPool::DropIdle() {
  std::vector<std::unique_ptr<RedisConnection>> dropped;
  {
    std::lock_guard lock(mutex_);
    dropped.swap(idle_);
  }
}

void RedisPool::Release(std::unique_ptr<RedisConnection> connection) {
  std::lock_guard lock(mutex_);
  --leased_;
  if (!connection->broken()) idle_.push_back(std::move(connection));
  released_.notify_one();
}

}  // namespace hubstats
