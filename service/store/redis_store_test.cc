// RedisStore specifics: URL parsing, the recorded shard count, key layout, shared state and
// recovery from lost scripts. The behaviour common to all stores is in store_test.cc.
#include "store/redis_store.h"

#include <signal.h>

#include <chrono>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "core/model_id.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "redis_server.h"

namespace hubstats {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

testing::RedisServer& Redis() {
  // Destroyed at exit, which stops the server and removes its directory.
  static testing::RedisServer server;
  return server;
}

std::unique_ptr<RedisStore> Open(const std::string& prefix, std::optional<uint32_t> shards = {}) {
  RedisStoreOptions options;
  options.url = Redis().url();
  options.key_prefix = prefix;
  options.shard_count = shards;
  absl::StatusOr<std::unique_ptr<RedisStore>> store = RedisStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

std::vector<ShardDelta> OneEvent(const std::string& model, uint32_t shards, int64_t count = 1) {
  DeltaBuilder builder(shards);
  builder.Add({model, AuthorOf(model), *Day::Parse("2024-09-01"), count, ""});
  return std::move(builder).Finish();
}

TEST(RedisUrlTest, ParsesTheDocumentedForms) {
  absl::StatusOr<RedisEndpoint> plain = ParseRedisUrl("redis://localhost");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->host, "localhost");
  EXPECT_EQ(plain->port, 6379);
  EXPECT_EQ(plain->db, 0);
  absl::StatusOr<RedisEndpoint> full = ParseRedisUrl("redis://user:s3cr:et@10.0.0.1:7000/3");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->username, "user");
  EXPECT_EQ(full->password, "s3cr:et");
  EXPECT_EQ(full->host, "10.0.0.1");
  EXPECT_EQ(full->port, 7000);
  EXPECT_EQ(full->db, 3);
  EXPECT_EQ(full->ToDisplayString(), "redis://user:***@10.0.0.1:7000/3");
  absl::StatusOr<RedisEndpoint> password_only = ParseRedisUrl("redis://:pw@h:1");
  ASSERT_TRUE(password_only.ok());
  EXPECT_EQ(password_only->username, "");
  EXPECT_EQ(password_only->password, "pw");
  for (const char* bad : {"http://h", "redis://", "redis://h:0", "redis://h:99999", "redis://h/x",
                          "redis://nocolon@h"}) {
    absl::StatusOr<RedisEndpoint> parsed = ParseRedisUrl(bad);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(parsed.status().message(), HasSubstr("expected redis://")) << bad;
  }
}

TEST(RedisStoreTest, UnreachableRedisIsUnavailable) {
  RedisStoreOptions options;
  options.url = "redis://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  absl::StatusOr<std::unique_ptr<RedisStore>> store = RedisStore::Open(options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(store.status().message(), HasSubstr("cannot connect"));
}

TEST(RedisStoreTest, BadOptionsAreInvalid) {
  RedisStoreOptions options;
  options.url = Redis().url();
  options.key_prefix = "a{b}";
  EXPECT_EQ(RedisStore::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.key_prefix = "ok";
  options.shard_count = 0;
  EXPECT_EQ(RedisStore::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RedisStoreTest, ShardCountIsFixedAtFirstStart) {
  std::unique_ptr<RedisStore> first = Open("fixed", 8);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->shard_count(), 8u);
  std::unique_ptr<RedisStore> second = Open("fixed");
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->shard_count(), 8u);
  RedisStoreOptions options;
  options.url = Redis().url();
  options.key_prefix = "fixed";
  options.shard_count = 16;
  absl::StatusOr<std::unique_ptr<RedisStore>> conflicting = RedisStore::Open(options);
  EXPECT_EQ(conflicting.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(conflicting.status().message(), HasSubstr("created with 8 shards"));
  EXPECT_EQ(Open("fresh")->shard_count(), kDefaultShardCount);
}

TEST(RedisStoreTest, EveryKeyCarriesItsShardTag) {
  std::unique_ptr<RedisStore> store = Open("layout", 4);
  ASSERT_NE(store, nullptr);
  for (const char* model : {"a/x", "b/y", "c/z", "gpt2", "d/w"}) {
    ASSERT_TRUE(store->ApplyEvents(OneEvent(model, 4)).ok());
  }
  ASSERT_TRUE(store
                  ->UpsertModels({{CatalogRecord{.model_id = "a/x", .pipeline_tag = "fill-mask"},
                                   Classify({.model_id = "a/x", .pipeline_tag = "fill-mask"},
                                            TaskTable::BuiltIn())}})
                  .ok());
  ASSERT_TRUE(
      store->ReadTop({*Day::Parse("2024-09-01"), *Day::Parse("2024-09-02")}, RankBy::kModel, {}, 5)
          .ok());
  const std::string keys = Redis().Cli("--scan --pattern 'layout:*'");
  std::set<std::string> tags;
  int count = 0;
  for (absl::string_view key : absl::StrSplit(keys, '\n', absl::SkipEmpty())) {
    ++count;
    if (key == "layout:meta") continue;
    ASSERT_TRUE(absl::StartsWith(key, "layout:{")) << key;
    const std::string tag(key.substr(0, key.find('}') + 1));
    tags.insert(tag);
    EXPECT_THAT(tag, ::testing::MatchesRegex("layout:\\{[0-3]\\}")) << key;
    EXPECT_FALSE(absl::StrContains(key, ":tmp")) << "scratch key left behind: " << key;
  }
  EXPECT_GT(count, 10);
  EXPECT_GE(tags.size(), 2u);
}

TEST(RedisStoreTest, TwoStoresOnOneRedisShareEverything) {
  std::unique_ptr<RedisStore> one = Open("shared");
  std::unique_ptr<RedisStore> two = Open("shared");
  ASSERT_TRUE(one && two);
  ASSERT_TRUE(one->ApplyEvents(OneEvent("org/a", one->shard_count(), 5)).ok());
  ASSERT_TRUE(two->ApplyEvents(OneEvent("org/a", two->shard_count(), 6)).ok());
  absl::StatusOr<TopCandidates> from_one = one->ReadTop({}, RankBy::kModel, {}, 5);
  absl::StatusOr<TopCandidates> from_two = two->ReadTop({}, RankBy::kModel, {}, 5);
  ASSERT_TRUE(from_one.ok() && from_two.ok());
  EXPECT_EQ(from_one->entries, from_two->entries);
  EXPECT_EQ(from_one->entries.at(0), (RankedEntry{"org/a", 11}));
}

// Redis answers some commands of a pipeline with an error (here BUSY, while another client's
// script runs): the store must report UNAVAILABLE and leave its connections in step, so the
// same store answers correctly afterwards.
TEST(RedisStoreTest, ErrorRepliesLeaveConnectionsInStep) {
  std::unique_ptr<RedisStore> store = Open("busy");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->ApplyEvents(OneEvent("org/a", store->shard_count(), 5), nullptr).ok());
  const BatchIdentity identity{.producer_id = "p", .sequence = 1};
  EXPECT_THAT(Redis().Cli("CONFIG SET busy-reply-threshold 10"), HasSubstr("OK"));
  auto blocker = testing::ChildProcess::Start(
      {"redis-cli", "-p", std::to_string(Redis().port()), "EVAL", "while true do end", "0"});
  // Wait until Redis says BUSY.
  for (int i = 0; i < 200 && !absl::StrContains(Redis().Cli("PING"), "BUSY"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(store->ReadAggregates({}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store->ReadTop({}, RankBy::kModel, {}, 5).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(store->ReadPopulation({}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(
      store->ApplyEvents(OneEvent("org/a", store->shard_count(), 7), &identity).status().code(),
      absl::StatusCode::kUnavailable);
  EXPECT_THAT(Redis().Cli("SCRIPT KILL"), HasSubstr("OK"));
  blocker->Stop(SIGKILL);
  EXPECT_THAT(Redis().Cli("CONFIG SET busy-reply-threshold 5000"), HasSubstr("OK"));
  // Retrying the batch applies it once; every answer matches what was written.
  ASSERT_TRUE(store->ApplyEvents(OneEvent("org/a", store->shard_count(), 7), &identity).ok());
  absl::StatusOr<TopCandidates> top = store->ReadTop({}, RankBy::kModel, {}, 5);
  ASSERT_TRUE(top.ok()) << top.status();
  EXPECT_EQ(top->entries.at(0), (RankedEntry{"org/a", 12}));
  EXPECT_EQ(top->total_downloads, 12);
  absl::StatusOr<AggregateCounts> counts = store->ReadAggregates({});
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)["s|unknown|u"], 12);
  EXPECT_EQ(store->ReadPopulation({})->models_with_downloads, 1);
}

// Pooled connections Redis has closed (a restart, an idle timeout, a dropped link) are
// replaced: every read answers as if nothing had happened.
TEST(RedisStoreTest, ReadsSurviveConnectionsRedisClosed) {
  std::unique_ptr<RedisStore> store = Open("closed");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->ApplyEvents(OneEvent("org/a", store->shard_count(), 4)).ok());
  ASSERT_TRUE(store->ReadTop({}, RankBy::kModel, {}, 5).ok());  // The pool holds a connection.
  EXPECT_THAT(Redis().Cli("CLIENT KILL TYPE normal"), Not(HasSubstr("ERR")));
  absl::StatusOr<TopCandidates> top = store->ReadTop({}, RankBy::kModel, {}, 5);
  ASSERT_TRUE(top.ok()) << top.status();
  EXPECT_EQ(top->entries.at(0), (RankedEntry{"org/a", 4}));
  EXPECT_THAT(Redis().Cli("CLIENT KILL TYPE normal"), Not(HasSubstr("ERR")));
  absl::StatusOr<AggregateCounts> counts = store->ReadAggregates({});
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ((*counts)["s|unknown|u"], 4);
  EXPECT_THAT(Redis().Cli("CLIENT KILL TYPE normal"), Not(HasSubstr("ERR")));
  absl::StatusOr<Population> population = store->ReadPopulation({});
  ASSERT_TRUE(population.ok()) << population.status();
  EXPECT_EQ(population->models_with_downloads, 1);
}

TEST(RedisStoreTest, RecoversWhenRedisForgetsTheScripts) {
  std::unique_ptr<RedisStore> store = Open("flushed");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->ApplyEvents(OneEvent("org/a", store->shard_count(), 2)).ok());
  EXPECT_THAT(Redis().Cli("SCRIPT FLUSH"), HasSubstr("OK"));
  ASSERT_TRUE(store->ApplyEvents(OneEvent("org/a", store->shard_count(), 3)).ok());
  absl::StatusOr<TopCandidates> top = store->ReadTop({}, RankBy::kModel, {}, 1);
  ASSERT_TRUE(top.ok());
  // Counted exactly once each: a NOSCRIPT reply means the script did not run.
  EXPECT_EQ(top->entries.at(0).downloads, 5);
}

}  // namespace
}  // namespace hubstats
