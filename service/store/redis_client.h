// A small synchronous Redis client over hiredis: URL parsing, connections and a pool.
//
// Each connection is used by one thread at a time (the pool hands it out); hiredis contexts
// are not thread-safe. Connection-level failures (refused, reset, timed out) come back as
// UNAVAILABLE and leave the connection broken, so the pool drops it and dials a new one.
// Redis error replies are not failures here: they are replies of type REDIS_REPLY_ERROR.
#ifndef HUBSTATS_SERVICE_STORE_REDIS_CLIENT_H_
#define HUBSTATS_SERVICE_STORE_REDIS_CLIENT_H_

#include <condition_variable>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

struct redisContext;
struct redisReply;

namespace hubstats {

// redis://[[username]:password@]host[:port][/db]; port defaults to 6379, db to 0.
struct RedisEndpoint {
  std::string host;
  int port = 6379;
  std::string username;
  std::string password;
  int db = 0;

  // The URL with the password masked, for logs.
  std::string ToDisplayString() const;
};
// INVALID_ARGUMENT (naming what is wrong) for anything else. Messages never hold the password.
absl::StatusOr<RedisEndpoint> ParseRedisUrl(absl::string_view url);

// `url` with the password (everything between "user:" and the last '@') replaced by "***",
// for any message or log that shows a URL as given.
std::string RedactRedisUrl(absl::string_view url);

// Owns one reply.
class RedisReply {
 public:
  RedisReply() = default;
  explicit RedisReply(redisReply* reply) : reply_(reply) {}
  RedisReply(RedisReply&& other) noexcept : reply_(std::exchange(other.reply_, nullptr)) {}
  RedisReply& operator=(RedisReply&& other) noexcept;
  ~RedisReply();

  const redisReply* get() const { return reply_; }
  bool is_error() const;
  bool is_nil() const;
  // The error text of an error reply, else "".
  std::string error() const;

 private:
  redisReply* reply_ = nullptr;
};

class RedisConnection {
 public:
  // Dials, authenticates and selects the database.
  static absl::StatusOr<std::unique_ptr<RedisConnection>> Connect(const RedisEndpoint& endpoint,
                                                                  absl::Duration connect_timeout,
                                                                  absl::Duration command_timeout);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Sends one command and waits for its reply.
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& args);
  // Queues a command (pipelining); its reply comes from a later GetReply.
  void Append(const std::vector<std::string>& args);
  // The same without copying the arguments first (hiredis copies them into its buffer).
  void Append(std::initializer_list<absl::string_view> args);
  void Append(absl::Span<const absl::string_view> args);
  // Flushes queued commands and reads the next reply.
  absl::StatusOr<RedisReply> GetReply();

  // How long each later command may wait for its reply.
  void SetTimeout(absl::Duration timeout);

  // True after an I/O error: the connection must be discarded.
  bool broken() const { return broken_; }
  // Marks the connection broken by choice (its session state is unknown, e.g. a WATCH that
  // UNWATCH could not clear): the pool drops it instead of lending it again.
  void Discard() { broken_ = true; }

 private:
  explicit RedisConnection(redisContext* context) : context_(context) {}
  absl::Status IoError(absl::string_view what);

  redisContext* context_;
  bool broken_ = false;
};

// A fixed-size pool of connections, dialled on demand. Thread-safe.
class RedisPool {
 public:
  RedisPool(RedisEndpoint endpoint, int size, absl::Duration connect_timeout,
            absl::Duration command_timeout);

  // A connection for the lease's lifetime; returned to the pool on destruction (dropped when
  // broken).
  class Lease {
   public:
    Lease(RedisPool* pool, std::unique_ptr<RedisConnection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    Lease(Lease&&) = default;
    ~Lease();
    RedisConnection* operator->() const { return connection_.get(); }
    RedisConnection& operator*() const { return *connection_; }

   private:
    RedisPool* pool_;
    std::unique_ptr<RedisConnection> connection_;
  };

  // Waits for a free connection (at most the connect timeout plus the command timeout, and not
  // past `deadline`), then dials if needed. The connection's commands time out after the
  // command timeout or at `deadline`, whichever comes first (DEADLINE_EXCEEDED). UNAVAILABLE
  // when Redis cannot be reached or no connection frees up in time.
  absl::StatusOr<Lease> Acquire(absl::Time deadline = absl::InfiniteFuture());

  // Closes the idle connections: after one connection failed, the others (opened to the same
  // server, through the same network) are likely dead too.
  void DropIdle();

  const RedisEndpoint& endpoint() const { return endpoint_; }

 private:
  void Release(std::unique_ptr<RedisConnection> connection);

  const RedisEndpoint endpoint_;
  const int size_;
  const absl::Duration connect_timeout_;
  const absl::Duration command_timeout_;
  std::mutex mutex_;
  std::condition_variable released_;
  std::vector<std::unique_ptr<RedisConnection>> idle_;
  int leased_ = 0;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_STORE_REDIS_CLIENT_H_
