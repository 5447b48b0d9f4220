// hubstats-bench: load generator and latency meter for a hubstats server, with direct-to-Redis
// baselines (service/store/baselines) measured in the same run.
//
//   hubstats-bench catalog --target T [--models N]
//   hubstats-bench ingest  --target T [--duration 20s | --events N]
//                          [--baseline direct-redis,diy-coalesce --redis URL]
//   hubstats-bench query   --target T [--concurrency 8] [--duration 10s] [--ingest-rate R]
//
// Run with --help for every flag. --json prints one JSON object for scripts.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/channel.h"
#include "common/command_line.h"
#include "core/delta.h"
#include "hubstats/v1/hubstats.grpc.pb.h"
#include "ingest_load.h"
#include "query_kinds.h"
#include "store/baselines/redis_baselines.h"
#include "workload.h"

namespace hubstats::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kHelp[] = R"(hubstats-bench: benchmark a hubstats server

usage: hubstats-bench MODE [flags]
modes:
  catalog   upsert the synthetic hub's catalog records (run once before ingest or query)
  ingest    stream Zipf-distributed download events through the ingest RPC, waiting for acks
  query     measure the latency of each query RPC at a concurrency, optionally under ingest

flags:
  --target HOST:PORT      server [localhost:50051]
  --models N              models of the synthetic hub [2200000]
  --exponent X            Zipf exponent of downloads per model [1.1]
  --duration D            how long to run (e.g. 20s, 1m) [ingest 20s, query 10s]
  --events N              ingest: stop after N events instead of a duration
  --batch-size N          events per batch [1000]
  --connections N         ingest streams, each on its own connection [4]
  --in-flight N           batches in flight per stream [16]
  --days N                events spread over the N days ending today (UTC) [1]
  --pool-events N         events pre-generated and cycled (>= a commit window) [1000000]
  --rate N                ingest: limit to N events/s in total (0 = as fast as possible) [0]
  --baseline B[,B]        ingest: also apply the same stream straight to Redis, as
                          direct-redis (per event) and/or diy-coalesce (summed per window)
  --baseline-window N     diy-coalesce: events summed per connection per flush [100000]
  --redis URL             Redis for the baselines and for memory figures
  --baseline-prefix P     key prefix of the baselines' writes [hubstats-baseline]
  --server-pid PID        report the server's resident memory
  --concurrency N         query: parallel callers [8]
  --ingest-rate N         query: run ingest at N events/s meanwhile [0]
  --day YYYY-MM-DD        query: the day of single-day queries [today]
  --queries report|trend|sizes
                          query: the report's 12 queries; trends (12 months by month and
                          365 days by day ending on --day: modality, size, top-50 authors);
                          or sizes (size classes at 200M/500M/1B, 1B/7B/13B/70B and 12 odd
                          boundaries, top-50 models of 7B-13B; all time, --day, 30 days)
                          [report]
  --message packed|events ingest batches as packed columns or as event messages [packed]
  --lag-target HOST:PORT  freshness probe: after acks, a query with the ack's version as
                          min_version to this server (another replica) [--target]
  --no-lag-probe          no freshness probe
  --json                  print one JSON object
)";

[[noreturn]] void UsageError(const std::string& message) {
  std::fprintf(stderr, "hubstats-bench: %s\n(run hubstats-bench --help for usage)\n",
               message.c_str());
  std::exit(2);
}

// The numeric flags and their smallest allowed values; every one is checked at start, so a
// bad value stops the run before any load is generated.
struct NumericFlag {
  const char* name;
  double minimum;
  bool whole;
};
constexpr NumericFlag kNumericFlags[] = {
    {"models", 1, true},
    {"exponent", 0, false},
    {"events", 0, true},
    {"batch-size", 1, true},
    {"connections", 1, true},
    {"in-flight", 1, true},
    {"days", 1, true},
    {"pool-events", 1, true},
    {"rate", 0, false},
    {"server-pid", 0, true},
    {"concurrency", 1, true},
    {"ingest-rate", 0, false},
    {"baseline-window", 1, true},
};

// The parsed command line. Values were validated by ParseFlags, so the getters cannot fail.
struct Flags {
  std::string mode;
  client::CommandLine line;
  bool json = false;

  std::string Get(const std::string& name, const std::string& fallback) const {
    return line.Value(name, fallback);
  }
  int64_t Int(const std::string& name, int64_t fallback) const {
    return *line.Int(name, fallback, std::numeric_limits<int64_t>::min());
  }
  double Double(const std::string& name, double fallback) const {
    return *line.Double(name, fallback, -std::numeric_limits<double>::infinity());
  }
  absl::Duration Duration(const std::string& name, absl::Duration fallback) const {
    return *line.Duration(name, fallback, absl::ZeroDuration());
  }
};

Flags ParseFlags(int argc, char** argv) {
  static const client::CommandLineSpec kSpec = [] {
    client::CommandLineSpec spec;
    // clang-format off
    spec.value_options = {"target", "models", "exponent", "duration", "events", "batch-size",
                          "connections", "in-flight", "days", "pool-events", "rate", "baseline",
                          "redis", "baseline-prefix", "server-pid", "concurrency", "ingest-rate",
                          "day", "baseline-window", "message", "lag-target", "queries"};
    // clang-format on
    spec.switches = {"json", "no-lag-probe"};
    return spec;
  }();
  absl::StatusOr<client::CommandLine> line = client::CommandLine::Parse(argc, argv, kSpec);
  if (!line.ok()) UsageError(std::string(line.status().message()));
  if (line->help()) {
    std::fputs(kHelp, stdout);
    std::exit(0);
  }
  if (line->words().size() != 1) {
    UsageError(line->words().empty()
                   ? "no MODE given: catalog, ingest or query"
                   : absl::StrCat("unexpected argument '", line->words()[1], "'"));
  }
  for (const NumericFlag& flag : kNumericFlags) {
    absl::Status valid = flag.whole
                             ? line->Int(flag.name, 0, static_cast<int64_t>(flag.minimum)).status()
                             : line->Double(flag.name, 0, flag.minimum).status();
    if (!valid.ok()) UsageError(std::string(valid.message()));
  }
  const std::string& mode = line->words().front();
  if (mode != "catalog" && mode != "ingest" && mode != "query") {
    UsageError(absl::StrCat("MODE must be catalog, ingest or query, got '", mode, "'"));
  }
  if (absl::Status valid =
          line->Duration("duration", absl::Seconds(1), absl::Milliseconds(1)).status();
      !valid.ok()) {
    UsageError(std::string(valid.message()));
  }
  if (const std::string baseline = line->Value("baseline"); !baseline.empty()) {
    for (absl::string_view name : absl::StrSplit(baseline, ',')) {
      if (!baselines::ParseBaseline(name).ok()) {
        UsageError(
            absl::StrCat("--baseline must be direct-redis or diy-coalesce, got '", name, "'"));
      }
    }
    if (!line->Has("redis"))
      UsageError(absl::StrCat("--baseline ", baseline, " needs --redis URL"));
  }
  if (line->Has("redis")) {
    if (absl::Status valid = baselines::CheckRedisUrl(line->Value("redis")); !valid.ok()) {
      UsageError(absl::StrCat("--redis: ", valid.message()));
    }
  }
  if (const std::string message = line->Value("message", "packed");
      message != "packed" && message != "events") {
    UsageError(absl::StrCat("--message must be packed or events, got '", message, "'"));
  }
  if (const std::string queries = line->Value("queries", "report");
      queries != "report" && queries != "trend" && queries != "sizes") {
    UsageError(absl::StrCat("--queries must be report, trend or sizes, got '", queries, "'"));
  }
  if (absl::CivilDay day; line->Has("day") && !absl::ParseCivilTime(line->Value("day"), &day)) {
    UsageError(absl::StrCat("--day must be YYYY-MM-DD, got '", line->Value("day"), "'"));
  }
  Flags flags;
  flags.mode = line->words().front();
  flags.json = line->Has("json");
  flags.line = *std::move(line);
  return flags;
}

// ---------------------------------------------------------------------------------------------
// catalog
// ---------------------------------------------------------------------------------------------

int RunCatalog(const Flags& flags, const Hub& hub) {
  const int connections = static_cast<int>(flags.Int("connections", 4));
  std::atomic<int64_t> next{0}, written{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&] {
      auto stub = v1::IngestService::NewStub(
          client::NewChannel(flags.Get("target", "localhost:50051"), /*own_connection=*/true));
      while (true) {
        const int64_t first = next.fetch_add(10'000);
        if (first >= hub.size()) return;
        v1::UpsertModelsRequest request;
        for (int64_t i = first; i < std::min(hub.size(), first + 10'000); ++i) {
          *request.add_models() = hub.Record(i);
        }
        v1::UpsertModelsResponse response;
        grpc::ClientContext context;
        grpc::Status status = stub->UpsertModels(&context, request, &response);
        if (!status.ok()) {
          Progress(absl::StrCat("upsert failed: ", status.error_message()));
          std::exit(1);
        }
        const int64_t done = written.fetch_add(response.accepted()) + response.accepted();
        if (done % 200'000 < 10'000) Progress(absl::StrCat("catalog: ", done, " records"));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (flags.json) {
    std::printf("{\"records\":%lld,\"seconds\":%.3f,\"records_per_s\":%.1f}\n",
                static_cast<long long>(written.load()), seconds, written.load() / seconds);
  } else {
    std::printf("catalog: %lld records in %.1f s (%.0f records/s)\n",
                static_cast<long long>(written.load()), seconds, written.load() / seconds);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// ingest
// ---------------------------------------------------------------------------------------------

// The ingest load's settings from the command line.
IngestLoadOptions LoadOptions(const Flags& flags, double rate) {
  IngestLoadOptions options;
  options.target = flags.Get("target", "localhost:50051");
  options.connections = static_cast<int>(flags.Int("connections", 4));
  options.batch_size = static_cast<int>(flags.Int("batch-size", 1000));
  options.in_flight = static_cast<int>(flags.Int("in-flight", 16));
  options.days = static_cast<int>(flags.Int("days", 1));
  options.pool_events = flags.Int("pool-events", 1'000'000);
  options.max_events = flags.Int("events", 0);
  options.rate = rate;
  options.packed = flags.Get("message", "packed") == "packed";
  if (!flags.line.Has("no-lag-probe")) options.lag_target = flags.Get("lag-target", options.target);
  return options;
}

// The freshness probe's figures, for the text and JSON outputs; empty without samples.
std::string LagText(IngestResult& result) {
  if (result.lag_ms.empty()) return "";
  return absl::StrFormat("  freshness lag p50 %.1f ms  p99 %.1f ms (%d probes)",
                         Percentile(result.lag_ms, 50), Percentile(result.lag_ms, 99),
                         result.lag_ms.size());
}
std::string LagJson(IngestResult& result) {
  if (result.lag_ms.empty()) return "";
  return absl::StrFormat(",\"lag_p50_ms\":%.3f,\"lag_p99_ms\":%.3f,\"lag_probes\":%d",
                         Percentile(result.lag_ms, 50), Percentile(result.lag_ms, 99),
                         result.lag_ms.size());
}
// A run whose probe failed is not a result: say why.
bool LagFailed(const IngestResult& result) {
  if (result.lag_failures == 0) return false;
  Progress(absl::StrCat("freshness probe: ", result.lag_failures,
                        " calls failed; the first: ", result.first_lag_failure));
  return true;
}

// The same workload applied straight to Redis by a baseline (service/store/baselines): each
// connection draws from the same Zipf distribution, with the classes known up front.
IngestResult RunBaseline(baselines::Baseline baseline, const Flags& flags, const Hub& hub,
                         absl::Duration duration, int64_t max_events) {
  baselines::BaselineOptions options;
  options.redis_url = flags.Get("redis", "");
  options.key_prefix = flags.Get("baseline-prefix", "hubstats-baseline");
  options.connections = static_cast<int>(flags.Int("connections", 4));
  options.coalesce_window = flags.Int("baseline-window", 100'000);
  options.duration = duration;
  options.max_events = max_events;
  const int days = static_cast<int>(flags.Int("days", 1));
  // Per-model data the baseline writer would have from its catalog, prepared before timing.
  std::vector<baselines::BaselineModel> models(hub.size());
  for (int64_t i = 0; i < hub.size(); ++i) {
    const SyntheticModel model = hub.Model(i);
    models[i] = {model.id, model.author, ClassOf(model)};
  }
  std::vector<Day> recent_days;
  for (int d = 0; d < days; ++d) {
    recent_days.push_back(Day::FromTime(absl::FromUnixSeconds(TodayStart() - d * 86400)));
  }
  absl::StatusOr<baselines::BaselineResult> result = baselines::RunBaseline(
      baseline, options, models, [&](int connection) -> baselines::EventSource {
        return [&, random = std::mt19937_64(1000 + connection)](
                   baselines::BaselineEvent& event) mutable {
          event.model = static_cast<uint32_t>(hub.Sample(random));
          event.count = 1 + static_cast<int64_t>(random() % 3);
          event.day = recent_days[random() % recent_days.size()];
          return true;
        };
      });
  if (!result.ok()) {
    Progress(absl::StrCat("baseline ", baselines::BaselineName(baseline), ": ",
                          result.status().message()));
    std::exit(1);
  }
  IngestResult ingest;
  ingest.events = result->events;
  ingest.seconds = result->seconds;
  return ingest;
}

int64_t ResidentKib(int64_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      int64_t kib = 0;
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(6, line.size() - 9)), &kib)) {
        return 0;  // As if unknown: the report shows no RSS.
      }
      return kib;
    }
  }
  return 0;
}

int64_t RedisUsedMemory(const std::string& url) {
  absl::StatusOr<int64_t> bytes = baselines::RedisUsedMemory(url);
  return bytes.ok() ? *bytes : 0;
}

int RunIngest(const Flags& flags, const Hub& hub) {
  const absl::Duration duration = flags.Duration("duration", absl::Seconds(20));
  const int64_t max_events = flags.Int("events", 0);
  const int64_t server_pid = flags.Int("server-pid", 0);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> peak_rss{0};
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling.load() && server_pid > 0) {
      peak_rss = std::max<int64_t>(peak_rss.load(), ResidentKib(server_pid));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  Progress(absl::StrCat("ingest: ", flags.Int("connections", 4), " streams, batches of ",
                        flags.Int("batch-size", 1000), ", Zipf ", flags.Double("exponent", 1.1),
                        " over ", hub.size(), " models"));
  IngestLoadOptions load = LoadOptions(flags, flags.Double("rate", 0));
  if (max_events == 0) load.duration = duration;
  IngestResult result = RunIngestLoad(load, hub, stop);
  sampling = false;
  sampler.join();
  const double events_per_s = result.events / result.seconds;
  const double p50 = Percentile(result.ack_ms, 50), p99 = Percentile(result.ack_ms, 99);
  Progress(
      absl::StrFormat("service: %.0f events/s (%d events in %.1f s), ack p50 %.1f ms, p99 %.1f ms",
                      events_per_s, result.events, result.seconds, p50, p99));
  const std::string redis_url = flags.Get("redis", "");
  const int64_t redis_bytes = redis_url.empty() ? 0 : RedisUsedMemory(redis_url);

  // Each baseline named, in order, on the same stream; the first one's figures keep the
  // original keys (baseline_events_per_s, ratio).
  std::vector<std::pair<std::string, double>> baseline_rates;
  if (const std::string names = flags.Get("baseline", ""); !names.empty()) {
    for (absl::string_view name : absl::StrSplit(names, ',')) {
      IngestResult baseline =
          RunBaseline(*baselines::ParseBaseline(name), flags, hub, duration, max_events);
      baseline_rates.emplace_back(std::string(name), baseline.events / baseline.seconds);
      Progress(absl::StrFormat("baseline %s: %.0f events/s (%d events in %.1f s)", name,
                               baseline_rates.back().second, baseline.events, baseline.seconds));
    }
  }
  const double baseline_per_s = baseline_rates.empty() ? 0 : baseline_rates.front().second;
  if (flags.json) {
    std::string json = absl::StrFormat(
        "{\"events\":%d,\"seconds\":%.3f,\"events_per_s\":%.1f,\"ack_p50_ms\":%.3f,"
        "\"ack_p99_ms\":%.3f,\"failed_streams\":%d%s",
        result.events, result.seconds, events_per_s, p50, p99, result.failed_streams,
        LagJson(result));
    if (server_pid > 0)
      absl::StrAppendFormat(&json, ",\"server_peak_rss_mib\":%.1f", peak_rss / 1024.0);
    if (redis_bytes > 0)
      absl::StrAppendFormat(&json, ",\"redis_used_memory_mib\":%.1f", redis_bytes / 1048576.0);
    if (baseline_per_s > 0) {
      absl::StrAppendFormat(&json, ",\"baseline_events_per_s\":%.1f,\"ratio\":%.2f", baseline_per_s,
                            events_per_s / baseline_per_s);
      std::string each;
      for (const auto& [name, rate] : baseline_rates) {
        absl::StrAppendFormat(&each, "%s\"%s\":{\"events_per_s\":%.1f,\"ratio\":%.2f}",
                              each.empty() ? "" : ",", name, rate, events_per_s / rate);
      }
      absl::StrAppend(&json, ",\"baselines\":{", each, "}");
    }
    std::printf("%s}\n", json.c_str());
  } else {
    std::printf("events/s %.0f  ack p50 %.2f ms  p99 %.2f ms%s", events_per_s, p50, p99,
                LagText(result).c_str());
    if (server_pid > 0) std::printf("  server peak RSS %.1f MiB", peak_rss / 1024.0);
    if (redis_bytes > 0) std::printf("  redis %.1f MiB", redis_bytes / 1048576.0);
    for (const auto& [name, rate] : baseline_rates) {
      std::printf("  %s %.0f events/s  ratio %.2f", name.c_str(), rate, events_per_s / rate);
    }
    std::printf("\n");
  }
  const bool lag_failed = LagFailed(result);
  return result.failed_streams == 0 && !lag_failed ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// query
// ---------------------------------------------------------------------------------------------

int RunQuery(const Flags& flags, const Hub& hub) {
  const int concurrency = static_cast<int>(flags.Int("concurrency", 8));
  const absl::Duration duration = flags.Duration("duration", absl::Seconds(10));
  absl::CivilDay day = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  if (const std::string text = flags.Get("day", ""); !text.empty()) {
    absl::ParseCivilTime(text, &day);  // ParseFlags checked it.
  }
  const std::string queries = flags.Get("queries", "report");
  const std::vector<QueryKind> kinds = queries == "trend"   ? TrendKinds(day)
                                       : queries == "sizes" ? SizeKinds(day)
                                                            : QueryKinds(day);
  std::atomic<bool> stop{false};
  std::thread ingest;
  const double ingest_rate = flags.Double("ingest-rate", 0);
  std::atomic<bool> ingest_stop{false};
  IngestResult ingest_result;
  std::atomic<bool> ingest_started{false}, ingest_ended{false};  // The load's thread sets them.
  if (ingest_rate > 0) {
    ingest = std::thread([&] {
      IngestLoadOptions load = LoadOptions(flags, ingest_rate);
      load.started = &ingest_started;
      ingest_result = RunIngestLoad(load, hub, ingest_stop);
      ingest_ended = true;
    });
    // The queries are timed under ingest only once it sends: its batches are generated first,
    // which takes seconds at Hub scale or in a sanitized build (a fixed wait measured some
    // queries idle, and a short run none under ingest). Then a second to reach its rate.
    while (!ingest_started && !ingest_ended) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  std::mutex mutex;
  std::map<std::string, std::vector<double>> latencies;
  std::map<std::string, int64_t> errors;
  std::map<std::string, std::string> first_error;  // The first failure of each query.
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      auto stub = v1::QueryService::NewStub(
          client::NewChannel(flags.Get("target", "localhost:50051"), /*own_connection=*/true));
      std::map<std::string, std::vector<double>> mine;
      std::map<std::string, int64_t> my_errors;
      std::map<std::string, std::string> my_first_error;
      for (size_t i = t; !stop.load(); ++i) {
        const QueryKind& kind = kinds[i % kinds.size()];
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        const auto start = Clock::now();
        grpc::Status status = kind.call(*stub, context);
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        if (status.ok()) {
          mine[kind.name].push_back(ms);
        } else {
          if (my_errors[kind.name]++ == 0) {
            my_first_error[kind.name] =
                absl::StrCat("code ", status.error_code(), ": ", status.error_message());
          }
        }
      }
      std::lock_guard lock(mutex);
      for (auto& [name, values] : mine) {
        latencies[name].insert(latencies[name].end(), values.begin(), values.end());
      }
      for (auto& [name, count] : my_errors) errors[name] += count;
      for (auto& [name, text] : my_first_error) first_error.emplace(name, text);
    });
  }
  std::this_thread::sleep_for(absl::ToChronoMilliseconds(duration));
  stop = true;
  for (std::thread& thread : threads) thread.join();
  ingest_stop = true;
  if (ingest.joinable()) ingest.join();

  std::string json = "{";
  bool first = true;
  for (const QueryKind& kind : kinds) {
    std::vector<double>& values = latencies[kind.name];
    const double p50 = Percentile(values, 50), p99 = Percentile(values, 99),
                 p999 = Percentile(values, 99.9);
    if (flags.json) {
      absl::StrAppendFormat(&json,
                            "%s\"%s\":{\"count\":%d,\"errors\":%d,\"p50_ms\":%.3f,"
                            "\"p99_ms\":%.3f,\"p999_ms\":%.3f}",
                            first ? "" : ",", kind.name, values.size(), errors[kind.name], p50, p99,
                            p999);
      first = false;
    } else {
      std::printf("%-24s n=%-7zu errors=%-4lld p50 %8.3f ms  p99 %8.3f ms  p999 %8.3f ms\n",
                  kind.name.c_str(), values.size(), static_cast<long long>(errors[kind.name]), p50,
                  p99, p999);
    }
  }
  if (ingest_rate > 0) {
    const double rate = ingest_result.events / ingest_result.seconds;
    if (flags.json) {
      absl::StrAppendFormat(&json, ",\"ingest_events_per_s\":%.1f%s", rate, LagJson(ingest_result));
    } else {
      std::printf("ingest meanwhile: %.0f events/s%s\n", rate, LagText(ingest_result).c_str());
    }
  }
  if (flags.json) std::printf("%s}\n", json.c_str());
  // Latencies of failed calls are not measured: a run with failures is not a result.
  int status =
      ingest_rate > 0 && (ingest_result.failed_streams > 0 || LagFailed(ingest_result)) ? 1 : 0;
  for (const auto& [name, text] : first_error) {
    Progress(absl::StrCat(name, ": ", errors[name], " calls failed; the first: ", text));
    status = 1;
  }
  return status;
}

}  // namespace
}  // namespace hubstats::bench

int main(int argc, char** argv) {
  using namespace hubstats::bench;
  const Flags flags = ParseFlags(argc, argv);
  const auto start = std::chrono::steady_clock::now();
  const Hub hub(flags.Int("models", 2'200'000), flags.Double("exponent", 1.1));
  Progress(absl::StrFormat(
      "hub of %d models ready in %.1f s", hub.size(),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()));
  if (flags.mode == "catalog") return RunCatalog(flags, hub);
  if (flags.mode == "ingest") return RunIngest(flags, hub);
  return RunQuery(flags, hub);
}
