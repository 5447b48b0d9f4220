// RedisStore specifics on one real redis-server: URLs and options, the recorded layout and
// shard count, the key layout, connections Redis closed, a paused Redis, scripts Redis forgot,
// error replies, and gaps in the change log. The behaviour common to all stores is in
// store_test.cc; a changing cluster in redis_store_cluster_test.cc.
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
#include "store/store_test_util.h"

namespace hubstats {
namespace {

using store_testing::ApplyEvents;
using store_testing::TestEvent;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

test_support::RedisServer& Redis() {
  // Destroyed at exit, which stops the server and removes its directory.
  static test_support::RedisServer server;
  return server;
}

RedisStoreOptions OptionsFor(const test_support::RedisServer& redis, const std::string& prefix) {
  RedisStoreOptions options;
  options.url = redis.url();
  options.key_prefix = prefix;
  return options;
}

std::unique_ptr<RedisStore> Open(const RedisStoreOptions& options) {
  absl::StatusOr<std::unique_ptr<RedisStore>> store = RedisStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

std::unique_ptr<RedisStore> Open(const std::string& prefix, std::optional<uint32_t> shards = {}) {
  RedisStoreOptions options = OptionsFor(Redis(), prefix);
  options.shard_count = shards;
  return Open(options);
}

int64_t TotalOf(Store& store, const std::string& model) {
  absl::StatusOr<store_testing::Facts> facts = store_testing::LoadFacts(store);
  EXPECT_TRUE(facts.ok()) << facts.status();
  if (!facts.ok() || !facts->models.contains(model)) return 0;
  return facts->models.at(model).all_time;
}

std::vector<std::pair<uint32_t, Version>> AfterEach(const VersionVector& versions) {
  std::vector<std::pair<uint32_t, Version>> after;
  for (uint32_t shard = 0; shard < versions.size(); ++shard) {
    after.emplace_back(shard, versions[shard]);
  }
  return after;
}

TEST(RedisUrlTest, ParsesTheDocumentedFormsAndHidesPasswords) {
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
  EXPECT_EQ(RedactRedisUrl("redis://user:s3cr:et@h:1/2"), "redis://user:***@h:1/2");
  EXPECT_EQ(RedactRedisUrl("redis://:pw@h"), "redis://:***@h");
  EXPECT_EQ(RedactRedisUrl("redis://h:1"), "redis://h:1");
  for (const char* bad : {"http://h", "redis://", "redis://h:0", "redis://h:99999", "redis://h/x",
                          "redis://nocolon@h"}) {
    absl::StatusOr<RedisEndpoint> parsed = ParseRedisUrl(bad);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(parsed.status().message(), HasSubstr("expected redis://")) << bad;
  }
  // A bad URL with a password never shows the password.
  absl::StatusOr<RedisEndpoint> secret = ParseRedisUrl("redis://u:hunter2@h:notaport");
  EXPECT_EQ(secret.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(secret.status().message(), Not(HasSubstr("hunter2")));
  RedisStoreOptions options;
  options.url = "redis://u:hunter2@h:notaport";
  EXPECT_THAT(RedisStore::Open(options).status().message(), Not(HasSubstr("hunter2")));
}

TEST(RedisStoreTest, UnreachableRedisIsUnavailable) {
  RedisStoreOptions options;
  options.url = "redis://127.0.0.1:" + std::to_string(test_support::FreeLoopbackPort());
  absl::StatusOr<std::unique_ptr<RedisStore>> store = RedisStore::Open(options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable) << store.status();
  EXPECT_THAT(store.status().message(), HasSubstr("cannot connect"));
  options.cluster_seeds = {"127.0.0.1:" + std::to_string(test_support::FreeLoopbackPort())};
  EXPECT_EQ(RedisStore::Open(options).status().code(), absl::StatusCode::kUnavailable);
}

TEST(RedisStoreTest, BadOptionsAreInvalid) {
  auto code = [](RedisStoreOptions options) { return RedisStore::Open(options).status().code(); };
  const RedisStoreOptions good = OptionsFor(Redis(), "ok");
  for (const char* prefix : {"a{b}", "", "a b"}) {
    RedisStoreOptions options = good;
    options.key_prefix = prefix;
    EXPECT_EQ(code(options), absl::StatusCode::kInvalidArgument) << prefix;
  }
  for (uint32_t shards : {0u, kMaxShardCount + 1}) {
    RedisStoreOptions options = good;
    options.shard_count = shards;
    EXPECT_EQ(code(options), absl::StatusCode::kInvalidArgument) << shards;
  }
  RedisStoreOptions options = good;
  options.pool_size = 0;
  EXPECT_EQ(code(options), absl::StatusCode::kInvalidArgument);
  options = good;
  options.wait_replicas = -1;
  EXPECT_EQ(code(options), absl::StatusCode::kInvalidArgument);
  options = good;
  options.change_log_retention = absl::ZeroDuration();
  EXPECT_EQ(code(options), absl::StatusCode::kInvalidArgument);
  options = good;
  options.cluster_seeds = {"127.0.0.1:99999"};
  EXPECT_EQ(code(options), absl::StatusCode::kInvalidArgument);
  options = good;
  options.url = "redis://h:0";
  EXPECT_EQ(code(options), absl::StatusCode::kInvalidArgument);
}

TEST(RedisStoreTest, ShardCountIsFixedAtFirstStart) {
  std::unique_ptr<RedisStore> first = Open("fixed", 8);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->shard_count(), 8u);
  std::unique_ptr<RedisStore> second = Open("fixed");
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->shard_count(), 8u);
  RedisStoreOptions options = OptionsFor(Redis(), "fixed");
  options.shard_count = 16;
  absl::StatusOr<std::unique_ptr<RedisStore>> conflicting = RedisStore::Open(options);
  EXPECT_EQ(conflicting.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(conflicting.status().message(), HasSubstr("created with 8 shards"));
  EXPECT_EQ(Open("fresh")->shard_count(), kDefaultShardCount);
  EXPECT_EQ(Open("large", kMaxShardCount)->shard_count(), kMaxShardCount);
}

TEST(RedisStoreTest, TheOldLayoutIsRefusedWithTheWayOut) {
  // What hubstats before v2 left under a prefix.
  Redis().Cli("HSET old:meta layout 1 shards 16");
  Redis().Cli("ZADD 'old:{3}:all:models' -5 org/a");
  absl::StatusOr<std::unique_ptr<RedisStore>> store = RedisStore::Open(OptionsFor(Redis(), "old"));
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << store.status();
  EXPECT_THAT(store.status().message(), HasSubstr("layout version 1"));
  EXPECT_THAT(store.status().message(), HasSubstr("--redis-prefix"));
  // Nothing was written over it.
  EXPECT_EQ(Redis().Cli("HGET old:meta layout"), "1\n");
}

// Every key is under its shard's tag and is one the layout names (redis_keys.h).
TEST(RedisStoreTest, EveryKeyIsInTheLayout) {
  std::unique_ptr<RedisStore> store = Open("layout", 4);
  ASSERT_NE(store, nullptr);
  const BatchIdentity identity{.producer_id = "job", .sequence = 1};
  const std::string today = Day::FromTime(absl::Now()).ToString();  // An open day: dense.
  ASSERT_TRUE(ApplyEvents(*store,
                          {{"a/x", "2024-09-01", 1, "main"},
                           {"b/y", "2024-09-02", 2, ""},
                           {"gpt2", "2024-09-01", 3, ""},
                           {"a/x", today, 4, ""}},
                          &identity)
                  .ok());
  ASSERT_TRUE(store->UpsertModels({{.model_id = "c/z", .pipeline_tag = "fill-mask"}}).ok());
  ASSERT_TRUE(store_testing::CommitProducer(*store, {.producer_id = "job", .sequence = 1}).ok());
  const std::string keys = Redis().Cli("--scan --pattern 'layout:*'");
  std::set<std::string> kinds, tags;
  for (absl::string_view key : absl::StrSplit(keys, '\n', absl::SkipEmpty())) {
    if (key == "layout:meta") continue;
    ASSERT_THAT(std::string(key), ::testing::MatchesRegex("layout:\\{[0-3]\\}:.*")) << key;
    const size_t close = key.find('}');
    tags.emplace(key.substr(0, close + 1));
    std::string kind(key.substr(close + 2));
    kind = kind.substr(0, kind.find(':'));
    kinds.insert(kind);
  }
  EXPECT_GE(tags.size(), 2u);
  const std::set<std::string> layout = {"models",  "all", "d",   "dd",      "days",    "dense",
                                        "authors", "rev", "log", "version", "applied", "producer"};
  EXPECT_EQ(kinds, layout);
}

// Pooled connections Redis has closed (a restart, an idle timeout, a dropped link) are
// replaced: reads, writes and queries answer as if nothing had happened.
TEST(RedisStoreTest, ConnectionsRedisClosedAreReplaced) {
  std::unique_ptr<RedisStore> store = Open("closed", 4);
  ASSERT_NE(store, nullptr);
  const BatchIdentity identity{.producer_id = "p", .sequence = 1};
  ASSERT_TRUE(ApplyEvents(*store, {{"org/a", "2024-09-01", 4, "main"}}, &identity).ok());
  auto kill = [] { EXPECT_THAT(Redis().Cli("CLIENT KILL TYPE normal"), Not(HasSubstr("ERR"))); };
  kill();
  EXPECT_EQ(TotalOf(*store, "org/a"), 4);
  kill();
  absl::StatusOr<VersionVector> versions = store->ReadVersions();
  ASSERT_TRUE(versions.ok()) << versions.status();
  kill();
  absl::StatusOr<std::vector<ShardChanges>> changes =
      store->ReadChanges(AfterEach(VersionVector(4)), 100);
  ASSERT_TRUE(changes.ok()) << changes.status();
  kill();
  const uint32_t shard = ShardOf("org", 4);
  absl::StatusOr<std::vector<RevisionDownloads>> revisions =
      store->ReadRevisions(shard, 0, {}, absl::Now() + absl::Seconds(2));
  ASSERT_TRUE(revisions.ok()) << revisions.status();
  EXPECT_EQ(revisions->size(), 1u);
  kill();
  const BatchIdentity next{.producer_id = "p", .sequence = 2};
  ASSERT_TRUE(ApplyEvents(*store, {{"org/a", "2024-09-01", 5, ""}}, &next).ok());
  kill();
  ASSERT_TRUE(store->UpsertModels({{.model_id = "org/a", .pipeline_tag = "fill-mask"}}).ok());
  kill();
  ASSERT_TRUE(store_testing::CheckProducer(*store, next).ok());
  EXPECT_EQ(TotalOf(*store, "org/a"), 9);
}

// A stopped Redis (SIGSTOP: connections open, nothing answers) fails a query with UNAVAILABLE
// by the query timeout, and the store answers again once Redis does.
TEST(RedisStoreTest, QueriesFailFastWhileRedisIsPaused) {
  test_support::RedisServer redis;
  RedisStoreOptions options = OptionsFor(redis, "paused");
  options.shard_count = 2;
  options.query_timeout = absl::Milliseconds(300);
  std::unique_ptr<RedisStore> store = Open(options);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(ApplyEvents(*store, {{"org/a", "2024-09-01", 4, "main"}}).ok());
  const uint32_t shard = ShardOf("org", 2);
  ASSERT_TRUE(store->ReadRevisions(shard, 0, {}, absl::Now() + absl::Seconds(1)).ok());
  redis.Pause();
  for (absl::Duration budget : {absl::Milliseconds(300), absl::Milliseconds(100)}) {
    const absl::Time start = absl::Now();
    absl::StatusOr<std::vector<RevisionDownloads>> read =
        store->ReadRevisions(shard, 0, {}, start + budget);
    const absl::Duration took = absl::Now() - start;
    EXPECT_EQ(read.status().code(), absl::StatusCode::kUnavailable) << read.status();
    EXPECT_THAT(read.status().message(), HasSubstr("did not answer"));
    // One deadline for the query, no second try after a timeout.
    EXPECT_LT(took, budget + absl::Milliseconds(250)) << budget;
  }
  redis.Resume();
  absl::StatusOr<std::vector<RevisionDownloads>> read =
      store->ReadRevisions(shard, 0, {}, absl::Now() + absl::Seconds(2));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->at(0).downloads, 4);
}

// Redis answers some commands with an error (here BUSY, while another client's script runs):
// the store reports UNAVAILABLE and keeps its connections in step, so it answers correctly
// afterwards, and a window retried with its identity counts once.
TEST(RedisStoreTest, ErrorRepliesLeaveConnectionsInStep) {
  test_support::RedisServer redis;
  std::unique_ptr<RedisStore> store = Open(OptionsFor(redis, "busy"));
  ASSERT_NE(store, nullptr);
  const BatchIdentity first{.producer_id = "p", .sequence = 1};
  ASSERT_TRUE(ApplyEvents(*store, {{"org/a", "2024-09-01", 5, ""}}, &first).ok());
  EXPECT_THAT(redis.Cli("CONFIG SET busy-reply-threshold 10"), HasSubstr("OK"));
  auto blocker = test_support::ChildProcess::Start(
      {"redis-cli", "-p", std::to_string(redis.port()), "EVAL", "while true do end", "0"});
  // The script starts when redis-cli gets to run: on a loaded machine that can take seconds.
  bool busy = false;
  for (int i = 0; i < 2000 && !busy; ++i) {
    busy = absl::StrContains(redis.Cli("PING"), "BUSY");
    if (!busy) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(busy) << "the blocking script did not start within 20 s";
  const BatchIdentity second{.producer_id = "p", .sequence = 2};
  absl::StatusOr<store_testing::ApplyResult> refused =
      ApplyEvents(*store, {{"org/a", "2024-09-01", 7, ""}}, &second);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
  EXPECT_EQ(store->ReadVersions().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store->LoadShard(0).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(redis.Cli("SCRIPT KILL"), HasSubstr("OK"));
  blocker->Stop(SIGKILL);
  absl::StatusOr<store_testing::ApplyResult> retried =
      ApplyEvents(*store, {{"org/a", "2024-09-01", 7, ""}}, &second);
  ASSERT_TRUE(retried.ok()) << retried.status();
  retried = ApplyEvents(*store, {{"org/a", "2024-09-01", 7, ""}}, &second);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->shards_skipped, 1);
  EXPECT_EQ(TotalOf(*store, "org/a"), 12);
}

TEST(RedisStoreTest, RecoversWhenRedisForgetsTheScripts) {
  std::unique_ptr<RedisStore> store = Open("flushed");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(ApplyEvents(*store, {{"org/a", "2024-09-01", 2, ""}}).ok());
  EXPECT_THAT(Redis().Cli("SCRIPT FLUSH"), HasSubstr("OK"));
  // New models (write_models.lua), a window (log_change.lua inside MULTI), producers.
  ASSERT_TRUE(
      ApplyEvents(*store, {{"org/a", "2024-09-01", 3, ""}, {"org/b", "2024-09-01", 1, ""}}).ok());
  EXPECT_THAT(Redis().Cli("SCRIPT FLUSH"), HasSubstr("OK"));
  ASSERT_TRUE(store_testing::CommitProducer(*store, {.producer_id = "q", .sequence = 1}).ok());
  EXPECT_THAT(Redis().Cli("SCRIPT FLUSH"), HasSubstr("OK"));
  EXPECT_EQ(store_testing::CheckProducer(*store, {.producer_id = "q", .sequence = 1})->check,
            ProducerCheck::kDuplicate);
  // Counted exactly once each: a NOSCRIPT reply means the script did not run.
  EXPECT_EQ(TotalOf(*store, "org/a"), 5);
  EXPECT_EQ(TotalOf(*store, "org/b"), 1);
}

// A reader that falls behind the log's retention, or whose version the log no longer has
// because Redis lost data, is told to load again; a reader that is current is not.
// Open days are written as dense arrays and moved into sparse hashes once closed; replicas
// whose clocks disagree write the same day in both forms. The facts are the sum, whatever the
// form, and compaction changes neither them nor the versions.
TEST(RedisStoreTest, DaysMoveFromDenseToSparseWithoutChangingFacts) {
  RedisStoreOptions options = OptionsFor(Redis(), "forms");
  options.shard_count = 2;
  options.dense_days = 1'000'000;  // Every day open.
  std::unique_ptr<RedisStore> dense = Open(options);
  options.dense_days = 0;  // Every day closed.
  std::unique_ptr<RedisStore> sparse = Open(options);
  ASSERT_TRUE(dense && sparse);
  const std::vector<TestEvent> events = {{"org/a", "2024-09-01", 5, ""},
                                         {"org/b", "2024-09-01", 7, "main"},
                                         {"org/a", "2024-09-02", 11, ""},
                                         {"gpt2", "2024-09-02", 13, ""}};
  ASSERT_TRUE(ApplyEvents(*dense, events).ok());
  EXPECT_NE(Redis().Cli("--scan --pattern 'forms:*:dd:*'"), "");
  // The same day written sparse by a replica that takes it for closed; its window also moves
  // the dense arrays of the shards it wrote.
  ASSERT_TRUE(ApplyEvents(*sparse, events).ok());
  EXPECT_EQ(Redis().Cli("--scan --pattern 'forms:*:dd:*'"), "");
  absl::StatusOr<store_testing::Facts> both = store_testing::LoadFacts(*dense);
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->models.at("org/a").days.at(*Day::Parse("2024-09-01")), 10);
  EXPECT_EQ(both->models.at("org/a").all_time, 32);
  EXPECT_EQ(both->models.at("gpt2").days.at(*Day::Parse("2024-09-02")), 26);
  // Dense again, then compacted on demand: facts and versions unchanged.
  ASSERT_TRUE(ApplyEvents(*dense, events).ok());
  absl::StatusOr<store_testing::Facts> before = store_testing::LoadFacts(*sparse);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->models.at("org/a").days.at(*Day::Parse("2024-09-01")), 15);
  EXPECT_NE(Redis().Cli("--scan --pattern 'forms:*:dd:*'"), "");
  const VersionVector versions = *sparse->ReadVersions();
  ASSERT_TRUE(sparse->CompactClosedDays().ok());
  EXPECT_EQ(Redis().Cli("--scan --pattern 'forms:*:dd:*'"), "");
  EXPECT_EQ(Redis().Cli("--scan --pattern 'forms:*:dense'"), "");
  absl::StatusOr<store_testing::Facts> after = store_testing::LoadFacts(*dense);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before);
  EXPECT_EQ(*sparse->ReadVersions(), versions);
}

TEST(RedisStoreTest, TrimmedOrLostRecordsAreAGap) {
  test_support::RedisServer redis;
  RedisStoreOptions options = OptionsFor(redis, "gap");
  options.shard_count = 1;
  options.change_log_retention = absl::Milliseconds(1);
  std::unique_ptr<RedisStore> store = Open(options);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(ApplyEvents(*store, {{"org/a", "2024-09-01", 1, ""}}).ok());
  const Version early = store->ReadVersions()->at(0);
  // Approximate trimming drops whole stream nodes (100 entries each by default).
  for (int i = 0; i < 250; ++i) {
    ASSERT_TRUE(ApplyEvents(*store, {{"org/a", "2024-09-01", 1, ""}}).ok());
    if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const Version now = store->ReadVersions()->at(0);
  EXPECT_TRUE(store->ReadChanges({{0, Version{}}}, 10)->front().gap);
  EXPECT_TRUE(store->ReadChanges({{0, early}}, 10)->front().gap);
  absl::StatusOr<std::vector<ShardChanges>> current = store->ReadChanges({{0, now}}, 10);
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_FALSE(current->front().gap);
  EXPECT_THAT(current->front().records, IsEmpty());
  // A version the log never reached.
  EXPECT_TRUE(store->ReadChanges({{0, Version{now.major + 1000, 0}}}, 10)->front().gap);
  // The entries a loaded snapshot's version leads to are all there.
  absl::StatusOr<ShardSnapshot> snapshot = store->LoadShard(0);
  ASSERT_TRUE(snapshot.ok());
  ASSERT_TRUE(ApplyEvents(*store, {{"org/a", "2024-09-02", 2, ""}}).ok());
  absl::StatusOr<std::vector<ShardChanges>> next = store->ReadChanges({{0, snapshot->version}}, 10);
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->front().gap);
  ASSERT_EQ(next->front().records.size(), 1u);
  EXPECT_EQ(next->front().records[0].second.downloads.at(0).downloads, 2);

  // Redis loses everything (a restart without persistence) and takes new writes: a reader at
  // the old version must not take the new log for the continuation of the old one.
  const Version before_loss = store->ReadVersions()->at(0);
  EXPECT_THAT(redis.Cli("FLUSHALL"), HasSubstr("OK"));
  std::unique_ptr<RedisStore> reopened = Open(options);
  ASSERT_NE(reopened, nullptr);
  EXPECT_TRUE(reopened->ReadChanges({{0, before_loss}}, 10)->front().gap);
  ASSERT_TRUE(ApplyEvents(*reopened, {{"org/a", "2024-09-03", 3, ""}}).ok());
  absl::StatusOr<std::vector<ShardChanges>> after_loss =
      reopened->ReadChanges({{0, before_loss}}, 10);
  ASSERT_TRUE(after_loss.ok());
  EXPECT_TRUE(after_loss->front().gap);
  EXPECT_THAT(after_loss->front().records, IsEmpty());
}

}  // namespace
}  // namespace hubstats
