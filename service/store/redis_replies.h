// Reading Redis replies into values, and Redis error replies into statuses: the checks every
// RedisStore reply goes through, so a malformed reply is DATA_LOSS wherever it comes from.
#ifndef HUBSTATS_SERVICE_STORE_REDIS_REPLIES_H_
#define HUBSTATS_SERVICE_STORE_REDIS_REPLIES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/day.h"
#include "core/version.h"
#include "store/redis_client.h"

struct redisReply;

namespace hubstats {

// DATA_LOSS "unexpected reply from redis: <what>".
absl::Status CorruptReply(absl::string_view what);

// The status for an error reply: UNAVAILABLE for the errors that pass (LOADING, BUSY,
// TRYAGAIN, MASTERDOWN, CLUSTERDOWN, READONLY, NOSCRIPT, OOM), so callers retry; INTERNAL
// otherwise. `what` says which command.
absl::Status ErrorReplyStatus(const RedisReply& reply, absl::string_view what);
absl::Status ErrorReplyStatus(const redisReply* reply, absl::string_view what);

// OK for a reply that is not an error; ErrorReplyStatus otherwise.
absl::Status CheckReply(const redisReply* reply, absl::string_view what);

// The bytes of a string or status reply; nullopt for nil; DATA_LOSS for anything else.
absl::StatusOr<std::optional<absl::string_view>> ReplyText(const redisReply* reply,
                                                           absl::string_view what);
// An integer reply, or a string holding a decimal integer; nil is `if_nil`.
absl::StatusOr<int64_t> ReplyInteger(const redisReply* reply, absl::string_view what,
                                     int64_t if_nil = 0);
// The elements of an array reply (DATA_LOSS unless an array of `expected` elements when given).
absl::StatusOr<std::vector<const redisReply*>> ReplyArray(const redisReply* reply,
                                                          absl::string_view what,
                                                          std::optional<size_t> expected = {});

// The members of an array reply of days ("YYYY-MM-DD", e.g. SMEMBERS of a days set), in the
// reply's order; DATA_LOSS naming `what` and the member for anything else.
absl::StatusOr<std::vector<Day>> ReplyDays(const redisReply* reply, absl::string_view what);

// A stream entry id "<ms>-<seq>" as a Version; nil is {0, 0}.
absl::StatusOr<Version> ReplyVersion(const redisReply* reply, absl::string_view what);

// Reads the replies of `count` commands sent on `connection`, all of them (so the connection
// stays in step), and returns them, or the first redirect among them (RoutingStatus), or the
// connection's failure.
absl::StatusOr<std::vector<RedisReply>> ReadReplies(RedisConnection& connection, size_t count);

// A decimal count, DATA_LOSS naming `what` otherwise.
absl::StatusOr<int64_t> ParseCount(absl::string_view text, absl::string_view what);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_STORE_REDIS_REPLIES_H_
