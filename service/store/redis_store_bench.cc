// hubstats_redis_store_bench: what RedisStore costs Redis, measured on a private redis-server
// (run by hand; docs/BENCHMARKS.md has the figures and the command):
//
//  1. bytes per catalogued model: used_memory after upserting --catalog records (the minute of
//     change log they leave is reported apart);
//  2. bytes per retained day: --models models indexed (as at Hub scale), then days of
//     --events-per-day events (Zipf --exponent, counts 1-3) applied in windows of 100,000
//     events; the growth of a day after the first (log apart);
//  3. Redis time per window of --window-models distinct models (comma list): Redis CPU
//     (INFO cpu) and each shard transaction's EXEC time (INFO commandstats), with AOF
//     appendfsync always;
//  4. store-level ingest (windows of 100,000 events through ApplyWindow, no gRPC) and the two
//     baselines (service/store/baselines) on the same Zipf stream.
//  5. only with --days D: retention over D simulated days of --events-per-day events each (a
//     third with a revision), applied day by day to two stores side by side, one folding the
//     months past --retention-days after each day (as app/retention.h does), one keeping every
//     day: their used_memory (change log apart) every 60 days, and how long each fold took.
//
//   hubstats_redis_store_bench [--models N] [--catalog N] [--events-per-day N] [--exponent X]
//                              [--window-models 5000,30000] [--seconds S]
//                              [--days D [--retention-days R]]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/delta.h"
#include "core/model_id.h"
#include "core/period.h"
#include "redis_server.h"
#include "store/baselines/redis_baselines.h"
#include "store/redis_store.h"

namespace hubstats {
namespace {

using Clock = std::chrono::steady_clock;

struct Settings {
  int64_t models = 2'200'000;
  int64_t catalog = 200'000;
  int64_t events_per_day = 500'000;
  double exponent = 1.1;
  std::vector<int64_t> window_models = {5'000, 30'000};
  double seconds = 10;
  int days = 0;  // > 0: the retention measurement only.
  int retention_days = 400;
};

// The bench's synthetic hub (client/bench/workload.cc): authors own runs of models.
std::string AuthorOf(int64_t index) {
  return absl::StrCat("org", static_cast<int64_t>(std::pow(static_cast<double>(index), 0.75)));
}
std::string IdOf(int64_t index) { return absl::StrCat(AuthorOf(index), "/m", index); }

class Zipf {
 public:
  Zipf(int64_t models, double exponent) : cumulative_(models) {
    double sum = 0;
    for (int64_t i = 0; i < models; ++i) {
      sum += std::pow(static_cast<double>(i + 1), -exponent);
      cumulative_[i] = sum;
    }
    for (double& value : cumulative_) value /= sum;
  }
  int64_t Sample(std::mt19937_64& random) const {
    const double u = std::uniform_real_distribution<double>(0, 1)(random);
    return std::min<int64_t>(
        std::lower_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin(),
        static_cast<int64_t>(cumulative_.size()) - 1);
  }

 private:
  std::vector<double> cumulative_;
};

std::map<std::string, std::string> Info(const test_support::RedisServer& redis,
                                        const std::string& section) {
  std::map<std::string, std::string> fields;
  for (absl::string_view line : absl::StrSplit(redis.Cli("INFO " + section), '\n')) {
    line = absl::StripAsciiWhitespace(line);
    const size_t colon = line.find(':');
    if (colon != absl::string_view::npos) {
      fields[std::string(line.substr(0, colon))] = std::string(line.substr(colon + 1));
    }
  }
  return fields;
}

int64_t UsedMemory(const test_support::RedisServer& redis) {
  int64_t bytes = 0;
  if (!absl::SimpleAtoi(Info(redis, "memory")["used_memory"], &bytes)) return -1;
  return bytes;
}

double RedisCpuSeconds(const test_support::RedisServer& redis) {
  std::map<std::string, std::string> cpu = Info(redis, "cpu");
  double user = 0, system = 0;
  if (!absl::SimpleAtod(cpu["used_cpu_user"], &user) ||
      !absl::SimpleAtod(cpu["used_cpu_sys"], &system)) {
    return -1;  // Shown as a negative CPU time: INFO did not say.
  }
  return user + system;
}

// "calls" and "usec" of one command in INFO commandstats.
std::pair<int64_t, int64_t> CommandStats(const test_support::RedisServer& redis,
                                         const std::string& command) {
  std::pair<int64_t, int64_t> stats;
  const std::string line = Info(redis, "commandstats")["cmdstat_" + command];
  for (absl::string_view part : absl::StrSplit(line, ',')) {
    // A field that does not parse stays 0: the command's row then shows no calls.
    if (absl::ConsumePrefix(&part, "calls=") && !absl::SimpleAtoi(part, &stats.first)) {
      stats.first = 0;
    }
    if (absl::ConsumePrefix(&part, "usec=") && !absl::SimpleAtoi(part, &stats.second)) {
      stats.second = 0;
    }
  }
  return stats;
}

// The change log's share of used_memory: MEMORY USAGE of every shard's log.
int64_t LogBytes(const test_support::RedisServer& redis, const std::string& prefix,
                 uint32_t shards) {
  int64_t bytes = 0;
  for (uint32_t shard = 0; shard < shards; ++shard) {
    int64_t key = 0;
    const std::string usage = redis.Cli(
        absl::StrCat("MEMORY USAGE '", redis_keys::ShardKeys(prefix, shard).log(), "' SAMPLES 0"));
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(usage), &key)) bytes += key;
  }
  return bytes;
}

void Check(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

std::unique_ptr<RedisStore> OpenStore(const test_support::RedisServer& redis,
                                      const std::string& prefix) {
  RedisStoreOptions options;
  options.url = redis.url();
  options.key_prefix = prefix;
  options.shard_count = kDefaultShardCount;
  absl::StatusOr<std::unique_ptr<RedisStore>> store = RedisStore::Open(options);
  Check(store.status(), "open");
  return *std::move(store);
}

// Indexes models 0..count-1 (hub order) in every shard; returns each model's index.
std::vector<uint32_t> IndexAll(RedisStore& store, int64_t count) {
  std::vector<std::vector<int64_t>> by_shard(store.shard_count());
  for (int64_t i = 0; i < count; ++i) {
    by_shard[ShardOf(AuthorOf(i), store.shard_count())].push_back(i);
  }
  std::vector<uint32_t> indexes(count);
  for (uint32_t shard = 0; shard < store.shard_count(); ++shard) {
    for (size_t begin = 0; begin < by_shard[shard].size(); begin += 20'000) {
      std::vector<std::string> ids;
      const size_t end = std::min(by_shard[shard].size(), begin + 20'000);
      for (size_t k = begin; k < end; ++k) ids.push_back(IdOf(by_shard[shard][k]));
      absl::StatusOr<std::vector<uint32_t>> assigned = store.AssignIndexes(shard, ids);
      Check(assigned.status(), "index");
      for (size_t k = begin; k < end; ++k) indexes[by_shard[shard][k]] = (*assigned)[k - begin];
    }
  }
  return indexes;
}

// One commit window: downloads per model (hub index) on `day`, as ShardDeltas; `main`, when
// given, holds the part of each model's downloads that named the revision "main".
std::vector<WindowShard> WindowOf(const absl::flat_hash_map<int64_t, int64_t>& downloads,
                                  const std::vector<uint32_t>& indexes, Day day, uint32_t shards,
                                  const absl::flat_hash_map<int64_t, int64_t>* main = nullptr) {
  std::vector<WindowShard> window(shards);
  for (uint32_t shard = 0; shard < shards; ++shard) window[shard].delta.shard = shard;
  for (const auto& [model, count] : downloads) {
    const std::string author = AuthorOf(model);
    WindowShard& shard = window[ShardOf(author, shards)];
    shard.delta.models.push_back({.index = indexes[model],
                                  .model_id = IdOf(model),
                                  .author = author,
                                  .total = count,
                                  .days = {DayDelta{.day = day, .count = count}}});
    if (main == nullptr) continue;
    if (auto revised = main->find(model); revised != main->end()) {
      shard.delta.models.back().days[0].revisions = {{"main", revised->second}};
    }
  }
  std::erase_if(window, [](const WindowShard& shard) { return shard.delta.models.empty(); });
  return window;
}

void MeasureCatalog(const Settings& settings) {
  test_support::RedisServer redis;
  std::unique_ptr<RedisStore> store = OpenStore(redis, "catalog");
  const int64_t before = UsedMemory(redis);
  for (int64_t first = 0; first < settings.catalog; first += 5'000) {
    std::vector<CatalogRecord> records;
    for (int64_t i = first; i < std::min(settings.catalog, first + 5'000); ++i) {
      records.push_back({.model_id = IdOf(i),
                         .pipeline_tag = i % 2 ? "text-generation" : "image-classification",
                         .num_parameters = (i % 7) * 110'000'000,
                         .library_name = i % 3 ? "transformers" : ""});
    }
    Check(store->UpsertModels(records).status(), "upsert");
  }
  const int64_t total = UsedMemory(redis) - before;
  const int64_t log = LogBytes(redis, "catalog", store->shard_count());
  std::printf(
      "catalog: %lld records: %.0f B per model in Redis (%.0f B of facts + %.0f B of the "
      "minute of change log that loading them left)\n",
      static_cast<long long>(settings.catalog), static_cast<double>(total) / settings.catalog,
      static_cast<double>(total - log) / settings.catalog,
      static_cast<double>(log) / settings.catalog);
}

void MeasureDays(const Settings& settings, const Zipf& zipf) {
  test_support::RedisServer redis;
  std::unique_ptr<RedisStore> store = OpenStore(redis, "days");
  const std::vector<uint32_t> indexes = IndexAll(*store, settings.models);
  std::printf("days: %lld models indexed: used_memory %.1f MiB\n",
              static_cast<long long>(settings.models), UsedMemory(redis) / 1048576.0);
  // Grow every shard's all-time array to its full length first, so day figures hold days only.
  {
    absl::flat_hash_map<int64_t, int64_t> tail;
    std::vector<int64_t> highest(store->shard_count(), -1);
    for (int64_t i = 0; i < settings.models; ++i) {
      int64_t& top = highest[ShardOf(AuthorOf(i), store->shard_count())];
      if (top < 0 || indexes[i] > indexes[top]) top = i;
    }
    for (int64_t model : highest) {
      if (model >= 0) tail[model] = 1;
    }
    Check(
        store->ApplyWindow(WindowOf(tail, indexes, *Day::Parse("2000-01-01"), store->shard_count()))
            .status(),
        "grow");
  }
  std::mt19937_64 random(11);
  // Three closed days (sparse hashes, as every retained day ends up), then today (open: a
  // dense array until it closes).
  const Day first = *Day::Parse("2024-09-01");
  for (int d = 0; d < 4; ++d) {
    const Day day = d < 3 ? Day::FromNumber(first.number() + d) : Day::FromTime(absl::Now());
    const int64_t before = UsedMemory(redis);
    const int64_t log_before = LogBytes(redis, "days", store->shard_count());
    int64_t distinct_day = 0;
    absl::flat_hash_map<int64_t, int64_t> day_models;
    for (int64_t done = 0; done < settings.events_per_day; done += 100'000) {
      absl::flat_hash_map<int64_t, int64_t> window;
      for (int64_t e = done; e < std::min(settings.events_per_day, done + 100'000); ++e) {
        const int64_t count = 1 + static_cast<int64_t>(random() % 3);
        const int64_t model = zipf.Sample(random);
        window[model] += count;
        day_models[model] += count;
      }
      Check(store->ApplyWindow(WindowOf(window, indexes, day, store->shard_count())).status(),
            "apply");
    }
    distinct_day = static_cast<int64_t>(day_models.size());
    const int64_t grown = UsedMemory(redis) - before;
    const int64_t log = LogBytes(redis, "days", store->shard_count()) - log_before;
    std::printf(
        "%s day %d: %lld events, %lld distinct models: +%.2f MiB (%.2f MiB of facts, %.2f MiB "
        "of change log within its minute)\n",
        d < 3 ? "closed" : "open", d + 1, static_cast<long long>(settings.events_per_day),
        static_cast<long long>(distinct_day), grown / 1048576.0, (grown - log) / 1048576.0,
        log / 1048576.0);
  }
}

void MeasureWindows(const Settings& settings, const Zipf& zipf) {
  test_support::RedisServer redis;
  redis.Cli("CONFIG SET appendonly yes");
  redis.Cli("CONFIG SET appendfsync always");
  std::this_thread::sleep_for(std::chrono::seconds(1));  // The AOF rewrite it starts.
  std::unique_ptr<RedisStore> store = OpenStore(redis, "windows");
  const std::vector<uint32_t> indexes = IndexAll(*store, settings.models);
  std::mt19937_64 random(12);
  const Day today = Day::FromTime(absl::Now());
  for (const auto& [day, form] : {std::pair(today, "open day (dense)"),
                                  std::pair(*Day::Parse("2024-09-01"), "closed day (sparse)")}) {
    for (int64_t distinct : settings.window_models) {
      constexpr int kWindows = 20;
      std::vector<std::vector<WindowShard>> windows;
      int64_t events = 0;
      for (int w = 0; w < kWindows; ++w) {
        absl::flat_hash_map<int64_t, int64_t> window;
        while (static_cast<int64_t>(window.size()) < distinct) {
          window[zipf.Sample(random)] += 1 + static_cast<int64_t>(random() % 3);
          ++events;
        }
        windows.push_back(WindowOf(window, indexes, day, store->shard_count()));
      }
      redis.Cli("CONFIG RESETSTAT");
      const double cpu_before = RedisCpuSeconds(redis);
      const auto start = Clock::now();
      for (const std::vector<WindowShard>& window : windows) {
        Check(store->ApplyWindow(window).status(), "apply");
      }
      const double wall = std::chrono::duration<double>(Clock::now() - start).count();
      const double cpu = RedisCpuSeconds(redis) - cpu_before;
      const auto [exec_calls, exec_usec] = CommandStats(redis, "exec");
      const auto [hincrby_calls, hincrby_usec] = CommandStats(redis, "hincrby");
      const auto [bitfield_calls, bitfield_usec] = CommandStats(redis, "bitfield");
      std::printf(
          "%s, windows of %lld distinct models (%lld events each on average): Redis CPU %.2f ms "
          "per window (%.2f us per distinct model); shard transaction (EXEC) %.0f us on average "
          "over %lld; HINCRBY %.2f us, BITFIELD %.0f us per call; %.1f ms wall per window (4 "
          "lanes)\n",
          form, static_cast<long long>(distinct), static_cast<long long>(events / kWindows),
          cpu * 1000 / kWindows, cpu * 1e6 / kWindows / distinct,
          exec_calls ? static_cast<double>(exec_usec) / exec_calls : 0.0,
          static_cast<long long>(exec_calls),
          hincrby_calls ? static_cast<double>(hincrby_usec) / hincrby_calls : 0.0,
          bitfield_calls ? static_cast<double>(bitfield_usec) / bitfield_calls : 0.0,
          wall * 1000 / kWindows);
    }
  }

  // Store-level ingest: windows of 100,000 events, as fast as the store takes them.
  int64_t events = 0;
  const auto start = Clock::now();
  const double cpu_before = RedisCpuSeconds(redis);
  while (std::chrono::duration<double>(Clock::now() - start).count() < settings.seconds) {
    absl::flat_hash_map<int64_t, int64_t> window;
    for (int e = 0; e < 100'000; ++e) {
      window[zipf.Sample(random)] += 1 + static_cast<int64_t>(random() % 3);
    }
    Check(store->ApplyWindow(WindowOf(window, indexes, today, store->shard_count())).status(),
          "apply");
    events += 100'000;
  }
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "store ingest (ApplyWindow, windows of 100,000 events on the open day, appendfsync always): "
      "%.0f events/s, "
      "Redis CPU %.2f us per event (sampling the events included)\n",
      events / wall, (RedisCpuSeconds(redis) - cpu_before) * 1e6 / events);
}

void MeasureBaselines(const Settings& settings, const Zipf& zipf) {
  test_support::RedisServer redis;
  redis.Cli("CONFIG SET appendonly yes");
  redis.Cli("CONFIG SET appendfsync always");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::vector<baselines::BaselineModel> models(settings.models);
  for (int64_t i = 0; i < settings.models; ++i) {
    ModelClass model_class = ModelClass::Unknown();
    model_class.modality = i % 2 ? Modality::kNlp : Modality::kComputerVision;
    model_class.size_bucket = static_cast<int>(i % 20);
    models[i] = {IdOf(i), AuthorOf(i), std::move(model_class)};
  }
  const Day day = *Day::Parse("2024-09-01");
  for (baselines::Baseline baseline :
       {baselines::Baseline::kDirectRedis, baselines::Baseline::kDiyCoalesce}) {
    baselines::BaselineOptions options;
    options.redis_url = redis.url();
    options.duration = absl::Seconds(settings.seconds);
    absl::StatusOr<baselines::BaselineResult> result = baselines::RunBaseline(
        baseline, options, models, [&](int connection) -> baselines::EventSource {
          return [&, random = std::mt19937_64(1000 + connection)](
                     baselines::BaselineEvent& event) mutable {
            event.model = static_cast<uint32_t>(zipf.Sample(random));
            event.count = 1 + static_cast<int64_t>(random() % 3);
            event.day = day;
            return true;
          };
        });
    Check(result.status(), "baseline");
    std::printf("baseline %s (4 connections, appendfsync always): %.0f events/s\n",
                std::string(baselines::BaselineName(baseline)).c_str(), result->events_per_s());
  }
}

void MeasureRetention(const Settings& settings, const Zipf& zipf) {
  test_support::RedisServer folding_redis, keeping_redis;
  std::unique_ptr<RedisStore> folding = OpenStore(folding_redis, "retention");
  std::unique_ptr<RedisStore> keeping = OpenStore(keeping_redis, "retention");
  const std::vector<uint32_t> indexes = IndexAll(*folding, settings.models);
  if (IndexAll(*keeping, settings.models) != indexes)
    Check(absl::InternalError("indexes"), "index");
  const uint32_t shards = folding->shard_count();
  auto facts = [&](const test_support::RedisServer& redis) {
    return (UsedMemory(redis) - LogBytes(redis, "retention", shards)) / 1048576.0;
  };
  std::printf("retention: %d days of %lld events over %lld models, %d days kept per day\n",
              settings.days, static_cast<long long>(settings.events_per_day),
              static_cast<long long>(settings.models), settings.retention_days);
  std::mt19937_64 random(17);
  const Day first = *Day::Parse("2023-01-01");
  std::vector<double> fold_ms;
  for (int d = 0; d < settings.days; ++d) {
    const Day day = Day::FromNumber(first.number() + d);
    for (int64_t done = 0; done < settings.events_per_day; done += 100'000) {
      absl::flat_hash_map<int64_t, int64_t> window, main;
      for (int64_t e = done; e < std::min(settings.events_per_day, done + 100'000); ++e) {
        const int64_t count = 1 + static_cast<int64_t>(random() % 3);
        const int64_t model = zipf.Sample(random);
        window[model] += count;
        if (random() % 3 == 0) main[model] += count;
      }
      const std::vector<WindowShard> shard_windows = WindowOf(window, indexes, day, shards, &main);
      Check(folding->ApplyWindow(shard_windows).status(), "apply");
      Check(keeping->ApplyWindow(shard_windows).status(), "apply");
    }
    const Day boundary = RetentionBoundary(day, settings.retention_days);
    for (uint32_t shard = 0; shard < shards; ++shard) {
      while (true) {
        const Clock::time_point start = Clock::now();
        absl::StatusOr<std::optional<Day>> month = folding->FoldMonth(shard, boundary);
        Check(month.status(), "fold");
        if (!*month) break;
        fold_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      }
    }
    if ((d + 1) % 60 == 0 || d + 1 == settings.days) {
      const double kept = facts(keeping_redis), folded = facts(folding_redis);
      std::printf(
          "day %4d (%s): keeping every day %8.1f MiB, with retention %8.1f MiB (%.2fx less)\n",
          d + 1, day.ToString().c_str(), kept, folded, kept / folded);
    }
  }
  std::sort(fold_ms.begin(), fold_ms.end());
  if (!fold_ms.empty()) {
    std::printf("folds: %zu (one month of one shard each): median %.1f ms, max %.1f ms\n",
                fold_ms.size(), fold_ms[fold_ms.size() / 2], fold_ms.back());
  }
}

Settings ParseSettings(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i + 1 < argc; i += 2) {
    const absl::string_view flag = argv[i], value = argv[i + 1];
    bool ok = true;
    if (flag == "--models") {
      ok = absl::SimpleAtoi(value, &settings.models);
    } else if (flag == "--catalog") {
      ok = absl::SimpleAtoi(value, &settings.catalog);
    } else if (flag == "--events-per-day") {
      ok = absl::SimpleAtoi(value, &settings.events_per_day);
    } else if (flag == "--exponent") {
      ok = absl::SimpleAtod(value, &settings.exponent);
    } else if (flag == "--seconds") {
      ok = absl::SimpleAtod(value, &settings.seconds);
    } else if (flag == "--days") {
      ok = absl::SimpleAtoi(value, &settings.days) && settings.days > 0;
    } else if (flag == "--retention-days") {
      ok = absl::SimpleAtoi(value, &settings.retention_days) && settings.retention_days > 0;
    } else if (flag == "--window-models") {
      settings.window_models.clear();
      for (absl::string_view part : absl::StrSplit(value, ',')) {
        int64_t models = 0;
        ok = ok && absl::SimpleAtoi(part, &models) && models > 0;
        settings.window_models.push_back(models);
      }
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "hubstats_redis_store_bench: bad flag %s %s\n", argv[i], argv[i + 1]);
      std::exit(2);
    }
  }
  return settings;
}

}  // namespace
}  // namespace hubstats

int main(int argc, char** argv) {
  const hubstats::Settings settings = hubstats::ParseSettings(argc, argv);
  const hubstats::Zipf zipf(settings.models, settings.exponent);
  if (settings.days > 0) {
    hubstats::MeasureRetention(settings, zipf);
    return 0;
  }
  hubstats::MeasureCatalog(settings);
  hubstats::MeasureDays(settings, zipf);
  hubstats::MeasureWindows(settings, zipf);
  hubstats::MeasureBaselines(settings, zipf);
  return 0;
}
