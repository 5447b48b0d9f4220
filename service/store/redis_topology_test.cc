// Slot hashing, reply classification and retry decisions, on replies recorded from a real
// Redis 7.0 cluster (testdata/, see record_cluster_replies.py). No server needed.
#include "store/redis_topology.h"

#include <hiredis/hiredis.h>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/redis_test_replies.h"

namespace hubstats {
namespace {

using Action = RedisRetryDecision::Action;
using Kind = RedisRouting::Kind;
using ::testing::HasSubstr;

TEST(RedisCrc16Test, MatchesTheClusterSpecification) {
  // The check value the Redis Cluster specification gives for its CRC16 (XMODEM).
  EXPECT_EQ(RedisCrc16("123456789"), 0x31C3);
  EXPECT_EQ(RedisCrc16(""), 0);
  // Slots from the CLUSTER KEYSLOT documentation.
  EXPECT_EQ(RedisKeySlot("somekey"), 11058);
  EXPECT_EQ(RedisKeySlot("foo{hash_tag}"), 2515);
  EXPECT_EQ(RedisKeySlot("bar{hash_tag}"), 2515);
}

TEST(RedisKeySlotTest, FollowsTheHashTagRules) {
  auto slot_of = [](absl::string_view hashed) { return RedisCrc16(hashed) % 16384; };
  // The examples of the specification's "Hash tags" section.
  EXPECT_EQ(RedisKeySlot("{user1000}.following"), slot_of("user1000"));
  EXPECT_EQ(RedisKeySlot("{user1000}.followers"), slot_of("user1000"));
  EXPECT_EQ(RedisKeySlot("foo{}{bar}"), slot_of("foo{}{bar}"));  // An empty tag: whole key.
  EXPECT_EQ(RedisKeySlot("foo{{bar}}zap"), slot_of("{bar"));     // The first '{' opens.
  EXPECT_EQ(RedisKeySlot("foo{bar}{zap}"), slot_of("bar"));      // The first '}' closes.
  EXPECT_EQ(RedisKeySlot("foo{bar"), slot_of("foo{bar"));        // Never closed: whole key.
  EXPECT_EQ(RedisKeySlot("foo}bar{"), slot_of("foo}bar{"));
  EXPECT_EQ(RedisKeySlot("{}"), slot_of("{}"));
  EXPECT_EQ(RedisKeySlot(""), 0);
  // hubstats keys: every key of a shard shares its tag.
  EXPECT_EQ(RedisKeySlot("hs:{7}:catalog"), RedisKeySlot("hs:{7}:d:2024-09-01:models:nlp"));
  EXPECT_EQ(RedisKeySlot("hs:{7}:catalog"), slot_of("7"));
  // Binary keys hash every byte.
  const std::string binary("a\0b", 3);
  EXPECT_EQ(RedisKeySlot(binary), slot_of(binary));
  EXPECT_NE(RedisKeySlot(binary), RedisKeySlot("a"));
}

TEST(ClassifyReplyTest, RecordedRedirects) {
  std::vector<RedisReply> moved = testdata::Replies("moved.resp");
  ASSERT_EQ(moved.size(), 1u);
  RedisRouting routing = ClassifyReply(moved[0]);
  EXPECT_EQ(routing.kind, Kind::kMoved);
  // The recorded text is "MOVED <slot> <host>:<port>"; compare with its own fields.
  std::vector<std::string> words = absl::StrSplit(moved[0].error(), ' ');
  ASSERT_EQ(words.size(), 3u);
  EXPECT_EQ(routing.slot, std::stoi(words[1]));
  EXPECT_EQ(routing.node, words[2]);
  EXPECT_FALSE(routing.refresh_map);

  std::vector<RedisReply> ask = testdata::Replies("ask.resp");
  ASSERT_EQ(ask.size(), 1u);
  routing = ClassifyReply(ask[0]);
  EXPECT_EQ(routing.kind, Kind::kAsk);
  words = absl::StrSplit(ask[0].error(), ' ');
  ASSERT_EQ(words.size(), 3u);
  EXPECT_EQ(routing.slot, std::stoi(words[1]));
  EXPECT_EQ(routing.node, words[2]);
  // The same slot was asked of the importing node without ASKING: it sends the client back.
  std::vector<RedisReply> back = testdata::Replies("importing_without_asking.resp");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(ClassifyReply(back[0]).kind, Kind::kMoved);
  EXPECT_EQ(ClassifyReply(back[0]).slot, routing.slot);
  EXPECT_NE(ClassifyReply(back[0]).node, routing.node);
  // With ASKING first, the importing node answers (+OK, then the value: nil).
  std::vector<RedisReply> asking = testdata::Replies("importing_asking.resp");
  ASSERT_EQ(asking.size(), 2u);
  EXPECT_EQ(ClassifyReply(asking[0]).kind, Kind::kNone);
  EXPECT_TRUE(asking[1].is_nil());
  EXPECT_EQ(ClassifyReply(asking[1]).kind, Kind::kNone);
}

TEST(ClassifyReplyTest, RecordedRetryableAndCallerErrors) {
  struct Case {
    const char* file;
    Kind kind;
    bool refresh;
  };
  for (const Case& c :
       {Case{"tryagain.resp", Kind::kRetry, false}, Case{"clusterdown.resp", Kind::kRetry, true},
        Case{"readonly.resp", Kind::kRetry, true}, Case{"wrongtype.resp", Kind::kNone, false}}) {
    std::vector<RedisReply> replies = testdata::Replies(c.file);
    ASSERT_EQ(replies.size(), 1u) << c.file;
    ASSERT_TRUE(replies[0].is_error()) << c.file;
    RedisRouting routing = ClassifyReply(replies[0]);
    EXPECT_EQ(routing.kind, c.kind) << c.file;
    EXPECT_EQ(routing.refresh_map, c.refresh) << c.file;
  }
  // Hand-written: the text redis-server sends while it loads its data (server.c,
  // shared.loadingerr), a replica whose master is down, and MOVED replies that cannot be parsed
  // (left to the caller).
  for (const char* text : {"-LOADING Redis is loading the dataset in memory\r\n",
                           "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is "
                           "set to 'no'.\r\n"}) {
    EXPECT_EQ(ClassifyReply(testdata::ParseReplies(text).at(0)).kind, Kind::kRetry) << text;
  }
  for (const char* text : {"-MOVED\r\n", "-MOVED 16384 127.0.0.1:7000\r\n",
                           "-MOVED 12 127.0.0.1\r\n", "-ASK x 127.0.0.1:7000\r\n",
                           "-MOVEDX 12 127.0.0.1:7000\r\n", "+MOVED 12 127.0.0.1:7000\r\n"}) {
    EXPECT_EQ(ClassifyReply(testdata::ParseReplies(text).at(0)).kind, Kind::kNone) << text;
  }
  // Redis 7 names an unknown endpoint by its port only: the host is the one asked.
  RedisRouting same_host = ClassifyReply(testdata::ParseReplies("-MOVED 5 :7001\r\n").at(0));
  EXPECT_EQ(same_host.kind, Kind::kMoved);
  EXPECT_EQ(same_host.node, ":7001");
}

TEST(RoutingStatusTest, CarriesTheRoutingThroughAStatus) {
  std::vector<RedisReply> transaction = testdata::Replies("multi_moved.resp");
  // MULTI, a queued command refused with MOVED, EXEC aborted.
  ASSERT_EQ(transaction.size(), 3u);
  EXPECT_TRUE(RoutingStatus(transaction[0]).ok());
  absl::Status moved = RoutingStatus(transaction[1]);
  EXPECT_TRUE(absl::IsUnavailable(moved)) << moved;
  EXPECT_THAT(moved.message(), HasSubstr(transaction[1].error()));
  std::optional<RedisRouting> routing = RoutingOf(moved);
  ASSERT_TRUE(routing.has_value());
  EXPECT_EQ(routing->kind, Kind::kMoved);
  EXPECT_EQ(routing->slot, ClassifyReply(transaction[1]).slot);
  EXPECT_EQ(routing->node, ClassifyReply(transaction[1]).node);
  EXPECT_EQ(routing->error, transaction[1].error());
  // EXECABORT is only the consequence; the queued reply carries the redirect.
  EXPECT_TRUE(transaction[2].is_error());
  EXPECT_TRUE(RoutingStatus(transaction[2]).ok());

  std::optional<RedisRouting> down =
      RoutingOf(RoutingStatus(testdata::Replies("clusterdown.resp").at(0)));
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->kind, Kind::kRetry);
  EXPECT_TRUE(down->refresh_map);
  EXPECT_FALSE(RoutingOf(absl::UnavailableError("connection reset")).has_value());
  EXPECT_FALSE(RoutingOf(absl::OkStatus()).has_value());
}

class DecideRetryTest : public ::testing::Test {
 protected:
  absl::Status Recorded(const char* file) { return RoutingStatus(testdata::Replies(file).at(0)); }
  RedisRetryDecision Decide(const absl::Status& outcome, bool sent = true, bool broken = false,
                            Idempotence idempotence = Idempotence::kNotIdempotent,
                            int attempt = 1) {
    return DecideRetry(outcome, sent, broken, idempotence, attempt, options_);
  }
  RedisRetryOptions options_;
};

TEST_F(DecideRetryTest, RedirectsAreFollowedAtOnce) {
  RedisRetryDecision moved = Decide(Recorded("moved.resp"));
  EXPECT_EQ(moved.action, Action::kRetry);
  EXPECT_EQ(moved.delay, absl::ZeroDuration());
  EXPECT_EQ(moved.routing.kind, Kind::kMoved);
  EXPECT_FALSE(moved.connection_failed);

  RedisRetryDecision ask = Decide(Recorded("ask.resp"));
  EXPECT_EQ(ask.action, Action::kAsk);
  EXPECT_EQ(ask.delay, absl::ZeroDuration());
  EXPECT_EQ(ask.routing.node, ClassifyReply(testdata::Replies("ask.resp").at(0)).node);
}

TEST_F(DecideRetryTest, RetryableErrorsBackOff) {
  for (const char* file : {"tryagain.resp", "clusterdown.resp", "readonly.resp"}) {
    RedisRetryDecision first = Decide(Recorded(file), true, false, Idempotence::kNotIdempotent, 1);
    EXPECT_EQ(first.action, Action::kRetry) << file;
    EXPECT_EQ(first.delay, options_.initial_backoff) << file;
    RedisRetryDecision third = Decide(Recorded(file), true, false, Idempotence::kNotIdempotent, 3);
    EXPECT_EQ(third.delay, options_.initial_backoff * 4) << file;
    RedisRetryDecision late = Decide(Recorded(file), true, false, Idempotence::kNotIdempotent, 15);
    EXPECT_EQ(late.delay, options_.max_backoff) << file;
  }
}

TEST_F(DecideRetryTest, ConnectionFailuresRetryOnlyWhatIsSafe) {
  const absl::Status reset = absl::UnavailableError("redis command failed: Connection reset");
  const absl::Status timeout = absl::DeadlineExceededError("redis command failed: timed out");
  // No connection was had: nothing was sent, always safe.
  RedisRetryDecision unsent = Decide(reset, /*sent=*/false);
  EXPECT_EQ(unsent.action, Action::kRetry);
  EXPECT_TRUE(unsent.connection_failed);
  EXPECT_GT(unsent.delay, absl::ZeroDuration());
  for (const absl::Status& failure : {reset, timeout}) {
    // Sent and lost: Redis may have run it.
    RedisRetryDecision once = Decide(failure, true, /*broken=*/true);
    EXPECT_EQ(once.action, Action::kReturn) << failure;
    EXPECT_TRUE(once.connection_failed) << failure;  // The map is still read again.
    EXPECT_FALSE(once.exhausted) << failure;
    RedisRetryDecision again = Decide(failure, true, true, Idempotence::kIdempotent);
    EXPECT_EQ(again.action, Action::kRetry) << failure;
  }
}

TEST_F(DecideRetryTest, CallerErrorsAndSuccessAreReturned) {
  EXPECT_EQ(Decide(absl::OkStatus()).action, Action::kReturn);
  RedisRetryDecision wrongtype = Decide(absl::InternalError("WRONGTYPE ..."));
  EXPECT_EQ(wrongtype.action, Action::kReturn);
  EXPECT_FALSE(wrongtype.connection_failed);
  // UNAVAILABLE from the caller on a healthy connection (e.g. a script error it maps so).
  EXPECT_EQ(Decide(absl::UnavailableError("BUSY"), true, false, Idempotence::kIdempotent).action,
            Action::kReturn);
  EXPECT_EQ(Decide(absl::FailedPreconditionError("not a cluster"), false).action, Action::kReturn);
}

TEST_F(DecideRetryTest, AttemptsAreBounded) {
  options_.max_attempts = 4;
  EXPECT_EQ(Decide(Recorded("moved.resp"), true, false, Idempotence::kNotIdempotent, 3).action,
            Action::kRetry);
  RedisRetryDecision last =
      Decide(Recorded("moved.resp"), true, false, Idempotence::kNotIdempotent, 4);
  EXPECT_EQ(last.action, Action::kReturn);
  EXPECT_TRUE(last.exhausted);
  EXPECT_EQ(last.routing.kind, Kind::kMoved);  // Still reported, so the map learns it.
}

}  // namespace
}  // namespace hubstats
