#include "store/redis_replies.h"

#include <hiredis/hiredis.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "store/redis_topology.h"

namespace hubstats {

absl::Status CorruptReply(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("unexpected reply from redis: ", what));
}

absl::Status ErrorReplyStatus(const redisReply* reply, absl::string_view what) {
  const absl::string_view error =
      reply == nullptr ? absl::string_view("no reply") : absl::string_view(reply->str, reply->len);
  // These pass on their own (Redis loading its data, a script running too long, a failover or
  // a slot migration, scripts flushed, memory full): the caller may retry.
  for (absl::string_view transient : {"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN",
                                      "READONLY", "NOSCRIPT", "OOM"}) {
    if (absl::StartsWith(error, transient)) {
      return absl::UnavailableError(absl::StrCat("redis ", what, ": ", error));
    }
  }
  return absl::InternalError(absl::StrCat("redis ", what, ": ", error));
}

absl::Status ErrorReplyStatus(const RedisReply& reply, absl::string_view what) {
  return ErrorReplyStatus(reply.get(), what);
}

absl::Status CheckReply(const redisReply* reply, absl::string_view what) {
  if (reply == nullptr) return CorruptReply(absl::StrCat(what, ": no reply"));
  if (reply->type == REDIS_REPLY_ERROR) return ErrorReplyStatus(reply, what);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<absl::string_view>> ReplyText(const redisReply* reply,
                                                           absl::string_view what) {
  if (absl::Status status = CheckReply(reply, what); !status.ok()) return status;
  if (reply->type == REDIS_REPLY_NIL) return std::optional<absl::string_view>();
  if (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_STATUS) {
    return CorruptReply(absl::StrCat(what, ": expected a string"));
  }
  return std::optional<absl::string_view>(absl::string_view(reply->str, reply->len));
}

absl::StatusOr<int64_t> ReplyInteger(const redisReply* reply, absl::string_view what,
                                     int64_t if_nil) {
  if (absl::Status status = CheckReply(reply, what); !status.ok()) return status;
  switch (reply->type) {
    case REDIS_REPLY_INTEGER:
      return static_cast<int64_t>(reply->integer);
    case REDIS_REPLY_NIL:
      return if_nil;
    case REDIS_REPLY_STRING:
      return ParseCount(absl::string_view(reply->str, reply->len), what);
    default:
      return CorruptReply(absl::StrCat(what, ": expected an integer"));
  }
}

absl::StatusOr<std::vector<const redisReply*>> ReplyArray(const redisReply* reply,
                                                          absl::string_view what,
                                                          std::optional<size_t> expected) {
  if (absl::Status status = CheckReply(reply, what); !status.ok()) return status;
  if (reply->type != REDIS_REPLY_ARRAY || (expected && reply->elements != *expected)) {
    return CorruptReply(
        absl::StrCat(what, ": expected an array", expected ? absl::StrCat(" of ", *expected) : ""));
  }
  return std::vector<const redisReply*>(reply->element, reply->element + reply->elements);
}

absl::StatusOr<std::vector<Day>> ReplyDays(const redisReply* reply, absl::string_view what) {
  absl::StatusOr<std::vector<const redisReply*>> members = ReplyArray(reply, what);
  if (!members.ok()) return members.status();
  std::vector<Day> days;
  days.reserve(members->size());
  for (const redisReply* member : *members) {
    absl::StatusOr<std::optional<absl::string_view>> text = ReplyText(member, what);
    if (!text.ok()) return text.status();
    absl::StatusOr<Day> day = Day::Parse(text->value_or(""));
    if (!day.ok()) return CorruptReply(absl::StrCat(what, ": day '", text->value_or(""), "'"));
    days.push_back(*day);
  }
  return days;
}

absl::StatusOr<Version> ReplyVersion(const redisReply* reply, absl::string_view what) {
  absl::StatusOr<std::optional<absl::string_view>> text = ReplyText(reply, what);
  if (!text.ok()) return text.status();
  if (!*text) return Version{};
  absl::StatusOr<Version> version = Version::Parse(**text);
  if (!version.ok()) return CorruptReply(absl::StrCat(what, ": '", **text, "' is not a version"));
  return *version;
}

absl::StatusOr<std::vector<RedisReply>> ReadReplies(RedisConnection& connection, size_t count) {
  std::vector<RedisReply> replies;
  replies.reserve(count);
  absl::Status routing;
  for (size_t i = 0; i < count; ++i) {
    absl::StatusOr<RedisReply> reply = connection.GetReply();
    if (!reply.ok()) return reply.status();
    if (absl::Status status = RoutingStatus(*reply); !status.ok() && routing.ok()) routing = status;
    replies.push_back(*std::move(reply));
  }
  if (!routing.ok()) return routing;
  return replies;
}

absl::StatusOr<int64_t> ParseCount(absl::string_view text, absl::string_view what) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) {
    return CorruptReply(absl::StrCat(what, ": '", text, "' is not a count"));
  }
  return value;
}

}  // namespace hubstats
