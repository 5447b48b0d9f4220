// The bench baselines apply exactly the stream they are given (their figures are only worth
// comparing if they do the work they claim): rankings and aggregate counters, for all time and
// each day, equal sums recomputed here.
#include "store/baselines/redis_baselines.h"

#include <map>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/delta.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "redis_server.h"
#include "store/redis_keys.h"

namespace hubstats::baselines {
namespace {

using ::testing::HasSubstr;

std::vector<BaselineModel> SmallHub() {
  std::vector<BaselineModel> models;
  for (int i = 0; i < 30; ++i) {
    ModelClass model_class = ModelClass::Unknown();
    model_class.modality = i % 3 == 0 ? Modality::kNlp : Modality::kAudio;
    model_class.size_bucket = i % 4;
    models.push_back(
        {absl::StrCat("org", i % 7, "/m", i), absl::StrCat("org", i % 7), std::move(model_class)});
  }
  return models;
}

int64_t Number(const std::string& text) {
  int64_t value = 0;
  double score = 0;
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  if (absl::SimpleAtoi(trimmed, &value)) return value;
  if (absl::SimpleAtod(trimmed, &score)) return static_cast<int64_t>(score);
  return -1;
}

class BaselineTest : public ::testing::TestWithParam<Baseline> {};

TEST_P(BaselineTest, AppliesExactlyTheStream) {
  test_support::RedisServer redis;
  const std::vector<BaselineModel> models = SmallHub();
  // Two connections, each with its own fixed stream.
  std::vector<std::vector<BaselineEvent>> streams(2);
  std::mt19937_64 random(5);
  const Day first = *Day::Parse("2024-09-01");
  for (auto& stream : streams) {
    for (int i = 0; i < 1000; ++i) {
      stream.push_back({static_cast<uint32_t>(random() % models.size()),
                        Day::FromNumber(first.number() + static_cast<int32_t>(random() % 2)),
                        static_cast<int64_t>(1 + random() % 3)});
    }
  }
  BaselineOptions options;
  options.redis_url = redis.url();
  options.connections = 2;
  options.shard_count = 4;
  options.coalesce_window = 137;  // Several flushes, one partial.
  options.duration = absl::Seconds(60);
  absl::StatusOr<BaselineResult> result =
      RunBaseline(GetParam(), options, models, [&](int connection) -> EventSource {
        return [&, connection, next = size_t{0}](BaselineEvent& event) mutable {
          if (next == streams[connection].size()) return false;
          event = streams[connection][next++];
          return true;
        };
      });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->events, 2000);
  EXPECT_GT(result->events_per_s(), 0);

  std::map<std::pair<uint32_t, std::string>, int64_t> per_model;  // (model, scope)
  std::map<std::pair<std::string, std::string>, int64_t> per_author, per_size;
  for (const auto& stream : streams) {
    for (const BaselineEvent& event : stream) {
      for (const std::string& scope :
           {redis_keys::BaselineKeys::AllTime(), redis_keys::BaselineKeys::OfDay(event.day)}) {
        per_model[{event.model, scope}] += event.count;
        per_author[{models[event.model].author, scope}] += event.count;
        per_size[{models[event.model].model_class.AggregateFields()[0], scope}] += event.count;
      }
    }
  }
  auto keys_of = [&](absl::string_view author) {
    return redis_keys::BaselineKeys(options.key_prefix, ShardOf(author, options.shard_count));
  };
  for (const auto& [key, downloads] : per_model) {
    const BaselineModel& model = models[key.first];
    const redis_keys::BaselineKeys keys = keys_of(model.author);
    EXPECT_EQ(
        Number(redis.Cli(absl::StrCat("ZSCORE '", keys.models(key.second), "' ", model.model_id))),
        -downloads)
        << model.model_id << " " << key.second;
    EXPECT_EQ(Number(redis.Cli(absl::StrCat(
                  "ZSCORE '", keys.models(key.second, ModalityName(model.model_class.modality)),
                  "' ", model.model_id))),
              -downloads);
  }
  for (const auto& [key, downloads] : per_author) {
    EXPECT_EQ(Number(redis.Cli(absl::StrCat("ZSCORE '", keys_of(key.first).authors(key.second),
                                            "' ", key.first))),
              -downloads);
  }
  // Size counters are per shard: sum them over the shards.
  for (const auto& [key, downloads] : per_size) {
    int64_t stored = 0;
    for (uint32_t shard = 0; shard < options.shard_count; ++shard) {
      const std::string value = redis.Cli(absl::StrCat(
          "HGET '", redis_keys::BaselineKeys(options.key_prefix, shard).aggregates(key.second),
          "' '", key.first, "'"));
      if (Number(value) > 0) stored += Number(value);
    }
    EXPECT_EQ(stored, downloads) << key.first << " " << key.second;
  }
  absl::StatusOr<int64_t> memory = RedisUsedMemory(redis.url());
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_GT(*memory, 0);
}

INSTANTIATE_TEST_SUITE_P(Baselines, BaselineTest,
                         ::testing::Values(Baseline::kDirectRedis, Baseline::kDiyCoalesce),
                         [](const ::testing::TestParamInfo<Baseline>& info) {
                           return std::string(BaselineName(info.param) == "direct-redis"
                                                  ? "DirectRedis"
                                                  : "DiyCoalesce");
                         });

TEST(BaselineNamesTest, RoundTripAndRefuseOthers) {
  EXPECT_EQ(*ParseBaseline("diy-coalesce"), Baseline::kDiyCoalesce);
  EXPECT_EQ(*ParseBaseline("direct-redis"), Baseline::kDirectRedis);
  EXPECT_THAT(ParseBaseline("fast").status().message(), HasSubstr("diy-coalesce"));
}

TEST(BaselineRunTest, UnreachableRedisIsAnError) {
  BaselineOptions options;
  options.redis_url = absl::StrCat("redis://127.0.0.1:", test_support::FreeLoopbackPort());
  absl::StatusOr<BaselineResult> result =
      RunBaseline(Baseline::kDiyCoalesce, options, SmallHub(),
                  [](int) -> EventSource { return [](BaselineEvent&) { return false; }; });
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace hubstats::baselines
