// hubstats-server: wires flags, the store, the service and the gRPC server.
//
// Every flag can also come from an environment variable (HUBSTATS_<NAME>, dashes as
// underscores); a flag on the command line wins. Run with --help for the list.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "app/follower.h"
#include "app/read_model.h"
#include "app/stats_service.h"
#include "app/worker_pool.h"
#include "grpc/edge_security.h"
#include "grpc/ingest_service.h"
#include "grpc/probe_server.h"
#include "grpc/query_service.h"
#include "security/redis_credentials.h"
#include "store/memory_store.h"
#include "store/redis_cluster.h"
#include "store/redis_store.h"
// Operations: logs, metrics, health, connections (each wired below in a few marked lines).
#include "app/ingest_metrics.h"
#include "app/metered_store.h"
#include "app/read_model_metrics.h"
#include "grpc/connection_options.h"
#include "grpc/grpc_log.h"
#include "grpc/health.h"
#include "grpc/rpc_metrics.h"
#include "telemetry/log.h"
#include "telemetry/metrics.h"
#include "telemetry/metrics_http.h"

namespace hubstats {
namespace {

struct Flag {
  std::string name;
  std::string value;
  std::string help;
  bool is_switch = false;  // `--name` alone means true; `--name=false` turns it off.
};

constexpr char kUsage[] = "usage: hubstats-server [--store memory|redis] [--redis URL] [flags]";

std::map<std::string, Flag> DefaultFlags() {
  std::map<std::string, Flag> flags;
  auto add = [&](std::string name, std::string value, std::string help) {
    flags[name] = {name, std::move(value), std::move(help)};
  };
  add("listen", "127.0.0.1:50051",
      "address to serve gRPC on (port 0 picks a free port); plaintext only on loopback unless "
      "--allow-insecure");
  add("store", "", "memory or redis; without it the server keeps everything in memory");
  add("redis", "", "redis://[[user]:password@]host[:port][/db] (default redis://127.0.0.1:6379)");
  add("redis-cluster", "",
      "a Redis Cluster instead of --redis: seed nodes host:port,... (or redis:// URLs)");
  add("redis-wait-replicas", "0",
      "each write waits until this many replicas of its master have it (WAIT), so acknowledged "
      "batches survive a failover; 0: off");
  add("change-log-seconds", "60", "how long each shard's change records are kept in Redis");
  add("open-days", "2",
      "days (today backwards) whose counters Redis keeps as dense arrays; older days are sparse");
  add("redis-prefix", "hubstats", "prefix of every Redis key");
  add("shards", "", "logical shards for a new Redis prefix (default 16; fixed once chosen)");
  add("redis-pool", "8", "Redis connections per process");
  add("redis-timeout-ms", "5000", "timeout of each Redis call of ingest and upserts");
  add("query-timeout-ms", "2000",
      "how long a query may wait for Redis in all; then it fails with UNAVAILABLE");
  add("workers", "8", "threads running store calls for queries");
  add("ingest-workers", "8", "threads validating ingest batches (commits run on their own thread)");
  add("store-retry-ms", "20000",
      "how long an ingest batch is retried while Redis is unavailable before its stream ends");
  add("commit-window-ms", "20", "ingest group commit: gather batches this long after the first");
  add("commit-window-events", "500000", "ingest group commit: close a window at this many events");
  add("max-inflight-mb", "512",
      "memory ingest may hold: every stream waiting for a batch reserves room for the largest "
      "batch decoded (--max-message-mb + 320 B per event), then the batch's decoded size "
      "until it is answered");
  add("max-message-mb", "16", "largest request message (an ingest batch, a catalog upsert)");
  add("max-batch-events", "100000", "most events in one ingest batch (at most 100000)");
  add("follow-interval-ms", "10", "how often the read model polls the store's change log");
  add("max-version-wait-ms", "2000",
      "how long a query waits for this replica to reach the version it asks for");
  add("task-table", "", "pipeline_tag -> modality table file (default: the built-in table)");
  add("shutdown-grace-ms", "10000", "how long SIGTERM waits for calls in flight");
  add("startup-wait-ms", "60000", "how long to wait at start for Redis to answer");
  // Operations (docs/OPERATIONS.md): logs, metrics, connections for load balancers.
  add("log-format", "text", "text or json: one line per event with level, time and fields");
  add("metrics-listen", "127.0.0.1:9464",
      "address of the Prometheus endpoint /metrics (port 0 picks a free one; empty: off; when "
      "the default is taken the server runs without metrics and says so)");
  add("max-connection-age-ms", "0",
      "close connections after this long (GOAWAY; 0: never), so clients re-balance");
  add("max-connection-age-grace-ms", "0",
      "calls in progress on an aged connection get this much longer (0: no limit)");
  add("keepalive-time-ms", "60000", "ping a connection that was quiet this long");
  add("keepalive-timeout-ms", "20000", "close a connection whose ping is unanswered this long");
  add("keepalive-min-ping-interval-ms", "10000",
      "refuse client pings more frequent than this (too_many_pings)");
  add("keepalive-permit-without-calls", "0",
      "1: accept client pings on connections without calls (and ping those too)");
  // Security and limits (docs/SECURITY.md).
  auto add_switch = [&](std::string name, std::string value, std::string help) {
    flags[name] = {name, std::move(value), std::move(help), true};
  };
  add("tls-cert", "", "PEM certificate chain: serve TLS (reloaded when the file changes)");
  add("tls-key", "", "PEM private key of --tls-cert");
  add("tls-client-ca", "", "PEM CA bundle: require client certificates it signed (mutual TLS)");
  add("tls-reload-s", "10", "how often the TLS files are checked for changes");
  add_switch("allow-insecure", "false", "serve plaintext on a non-loopback --listen address");
  add("tokens-file", "",
      "bearer tokens (NAME SCOPES sha256:DIGEST [producers=P,..] [rate=N] per line): calls "
      "need a token; re-read when it changes");
  add("tokens-reload-s", "5", "how often --tokens-file is checked for changes");
  add_switch("public-reads", "false", "queries need no token (with --tokens-file)");
  add_switch("reflection", "true", "serve gRPC server reflection (--reflection=false: off)");
  add("health-listen", "",
      "plaintext port answering only grpc.health.v1.Health/Check, for probes that speak no TLS");
  add("redis-user", "",
      "Redis ACL user (the password comes from --redis-password-file or "
      "$HUBSTATS_REDIS_PASSWORD)");
  add("redis-password-file", "", "file holding the Redis password (else $HUBSTATS_REDIS_PASSWORD)");
  add("max-query-kb", "64", "largest query request");
  add("max-upsert-records", "10000", "most catalog records in one UpsertModels request");
  add("max-concurrent-calls", "1000", "calls (ingest streams included) in progress at once");
  add("max-streams-per-connection", "100", "concurrent calls on one HTTP/2 connection");
  add("stream-idle-timeout-s", "60",
      "end an ingest stream that waits this long for a batch (0: never)");
  add("max-client-inflight-mb", "256",
      "of --max-inflight-mb, what one client (token, or IP without one) may hold");
  return flags;
}

void PrintHelp(const std::map<std::string, Flag>& flags) {
  std::printf("%s\n\nFlags (each also read from HUBSTATS_<NAME>, e.g. HUBSTATS_REDIS_PREFIX):\n",
              kUsage);
  for (const auto& [name, flag] : flags) {
    std::printf("  --%-31s %s%s\n", name.c_str(), flag.help.c_str(),
                flag.value.empty() ? "" : absl::StrCat(" [", flag.value, "]").c_str());
  }
}

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "hubstats-server: %s\n", message.c_str());
  std::exit(2);
}

std::map<std::string, Flag> ParseFlags(int argc, char** argv) {
  std::map<std::string, Flag> flags = DefaultFlags();
  for (auto& [name, flag] : flags) {
    const std::string variable =
        absl::StrCat("HUBSTATS_", absl::AsciiStrToUpper(absl::StrReplaceAll(name, {{"-", "_"}})));
    if (const char* value = std::getenv(variable.c_str()); value != nullptr) flag.value = value;
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      PrintHelp(flags);
      std::exit(0);
    }
    if (arg.rfind("--", 0) != 0) Fail(absl::StrCat("unexpected argument '", arg, "'\n", kUsage));
    arg = arg.substr(2);
    std::string value;
    if (size_t equals = arg.find('='); equals != std::string::npos) {
      value = arg.substr(equals + 1);
      arg = arg.substr(0, equals);
    } else if (auto it = flags.find(arg); it != flags.end() && it->second.is_switch) {
      value = "true";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      Fail(absl::StrCat("--", arg, " needs a value"));
    }
    auto it = flags.find(arg);
    if (it == flags.end()) Fail(absl::StrCat("unknown flag --", arg, " (see --help)"));
    it->second.value = value;
  }
  return flags;
}

int IntFlag(const std::map<std::string, Flag>& flags, const std::string& name, int minimum) {
  int value = 0;
  if (!absl::SimpleAtoi(flags.at(name).value, &value) || value < minimum) {
    Fail(absl::StrCat("--", name, " must be a whole number >= ", minimum, ", got '",
                      flags.at(name).value, "'"));
  }
  return value;
}

bool BoolFlag(const std::map<std::string, Flag>& flags, const std::string& name) {
  const std::string value = absl::AsciiStrToLower(flags.at(name).value);
  if (value == "true" || value == "1" || value == "yes" || value == "on") return true;
  if (value == "false" || value == "0" || value == "no" || value == "off" || value.empty()) {
    return false;
  }
  Fail(absl::StrCat("--", name, " must be true or false, got '", flags.at(name).value, "'"));
}

// The server's log, in the format of the first call (main passes --log-format). Never
// destroyed, so threads still logging while the process exits find it.
telemetry::Logger& Logger(std::optional<telemetry::LogFormat> format = std::nullopt) {
  static telemetry::Logger* logger = new telemetry::Logger(
      stderr, format.value_or(telemetry::LogFormat::kText), "hubstats-server");
  return *logger;
}

void Log(const std::string& message, telemetry::LogLevel level = telemetry::LogLevel::kInfo) {
  Logger().Log(level, message);
}

absl::Duration MillisecondsFlag(const std::map<std::string, Flag>& flags, const std::string& name) {
  return absl::Milliseconds(IntFlag(flags, name, 0));
}

}  // namespace
}  // namespace hubstats

int main(int argc, char** argv) {
  using namespace hubstats;
  const std::map<std::string, Flag> flags = ParseFlags(argc, argv);
  // A password in a --redis URL is readable by every local user in /proc/PID/cmdline.
  const int passwords_on_command_line = HideRedisPasswords(argc, argv);

  // Operations: the log's format, the metrics registry and its endpoint (fails fast when the
  // port is taken), build information.
  const std::optional<telemetry::LogFormat> log_format =
      telemetry::ParseLogFormat(flags.at("log-format").value);
  if (!log_format) Fail("--log-format must be text or json");
  RouteGrpcLogs(Logger(log_format));
  if (passwords_on_command_line > 0) {
    Log("a Redis password was given on the command line, where other local users can read it; "
        "use --redis-password-file or $HUBSTATS_REDIS_PASSWORD",
        telemetry::LogLevel::kWarning);
  }
  telemetry::Registry metrics;
  std::unique_ptr<telemetry::MetricsHttpServer> metrics_http;
  if (const std::string& address = flags.at("metrics-listen").value; !address.empty()) {
    absl::StatusOr<std::unique_ptr<telemetry::MetricsHttpServer>> started =
        telemetry::MetricsHttpServer::Start(address, metrics);
    // The default address is best effort (several servers on one machine, tests); an address
    // that was asked for must work.
    if (!started.ok() && address != DefaultFlags().at("metrics-listen").value) {
      Fail(std::string(started.status().message()));
    }
    if (!started.ok()) {
      Log(absl::StrCat(started.status().message(), ": running without metrics"),
          telemetry::LogLevel::kWarning);
    } else {
      // Only the log tells the metrics port: scripts read the gRPC port from stdout's first
      // line. Logged before that line is printed.
      metrics_http = *std::move(started);
      Log(absl::StrCat("metrics on ", address, " (port ", metrics_http->port(),
                       "), path /metrics"));
    }
  }
  metrics
      .AddGauge("hubstats_build_info", "Always 1; the labels say what runs.", {"version", "grpc"})
      .WithLabels({HUBSTATS_VERSION, grpc::Version()})
      .Set(1);
  const double start_time = static_cast<double>(absl::ToUnixMillis(absl::Now())) / 1000;
  metrics.AddGaugeCallback("hubstats_process_start_time_seconds",
                           "When the server started, in Unix seconds.",
                           [start_time] { return start_time; });

  // Signals are taken by sigwait below; block them before any thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const TaskTable* tasks = &TaskTable::BuiltIn();
  std::unique_ptr<TaskTable> custom_tasks;
  if (const std::string& path = flags.at("task-table").value; !path.empty()) {
    std::ifstream file(path);
    if (!file) Fail(absl::StrCat("cannot read --task-table ", path));
    std::stringstream text;
    text << file.rdbuf();
    absl::StatusOr<TaskTable> table = TaskTable::Parse(text.str());
    if (!table.ok()) Fail(absl::StrCat(path, ": ", table.status().message()));
    custom_tasks = std::make_unique<TaskTable>(*std::move(table));
    tasks = custom_tasks.get();
  }

  const std::string& store_kind = flags.at("store").value;
  std::unique_ptr<Store> store;
  if (store_kind == "redis") {
    RedisStoreOptions options;
    if (!flags.at("redis").value.empty()) options.url = flags.at("redis").value;
    // Credentials from a file or the environment, kept off the command line.
    absl::StatusOr<RedisCredentials> credentials = ServiceRedisCredentials(
        flags.at("redis-user").value, flags.at("redis-password-file").value);
    if (!credentials.ok()) {
      Fail(absl::StrCat("--redis-password-file: ", credentials.status().message()));
    }
    absl::StatusOr<std::string> url = RedisUrlWithCredentials(options.url, *credentials);
    if (!url.ok()) Fail(std::string(url.status().message()));
    options.url = *std::move(url);
    if (auto endpoint = ParseRedisUrl(options.url); endpoint.ok()) {
      Logger().Redact(endpoint->password);  // Whatever a log line quotes, never the password.
    }
    options.key_prefix = flags.at("redis-prefix").value;
    if (!flags.at("shards").value.empty()) {
      options.shard_count = static_cast<uint32_t>(IntFlag(flags, "shards", 1));
    }
    options.pool_size = IntFlag(flags, "redis-pool", 1);
    options.command_timeout = absl::Milliseconds(IntFlag(flags, "redis-timeout-ms", 1));
    options.query_timeout = absl::Milliseconds(IntFlag(flags, "query-timeout-ms", 1));
    options.wait_replicas = IntFlag(flags, "redis-wait-replicas", 0);
    options.change_log_retention = absl::Seconds(IntFlag(flags, "change-log-seconds", 1));
    options.dense_days = IntFlag(flags, "open-days", 0);
    if (const std::string& seeds = flags.at("redis-cluster").value; !seeds.empty()) {
      if (!flags.at("redis").value.empty()) Fail("give --redis or --redis-cluster, not both");
      if (auto endpoints = ParseClusterSeeds(seeds); endpoints.ok()) {
        for (const RedisEndpoint& endpoint : *endpoints) Logger().Redact(endpoint.password);
      }
      options.cluster_seeds = absl::StrSplit(seeds, ',', absl::SkipEmpty());
    }
    // Wait out a Redis that is not up yet (or restarting); give up on anything else at once.
    const absl::Time give_up =
        absl::Now() + absl::Milliseconds(IntFlag(flags, "startup-wait-ms", 0));
    absl::StatusOr<std::unique_ptr<RedisStore>> redis = RedisStore::Open(options);
    while (!redis.ok() && IsRetryableStoreError(redis.status()) && absl::Now() < give_up) {
      Log(absl::StrCat("waiting for Redis: ", redis.status().message()));
      absl::SleepFor(absl::Milliseconds(500));
      redis = RedisStore::Open(options);
    }
    if (!redis.ok()) Fail(absl::StrCat("cannot open the Redis store: ", redis.status().ToString()));
    const std::string where =
        options.cluster_seeds.empty()
            ? ParseRedisUrl(options.url)->ToDisplayString()
            : absl::StrCat("cluster via ", RedactRedisUrl(flags.at("redis-cluster").value));
    Log(absl::StrCat("store: redis ", where, ", prefix '", options.key_prefix, "', ",
                     (*redis)->shard_count(), " shards"));
    store = *std::move(redis);
  } else if (store_kind == "memory" || store_kind.empty()) {
    if (!flags.at("redis").value.empty() || !flags.at("redis-cluster").value.empty()) {
      Fail("--redis or --redis-cluster is set but the store is not redis: add --store redis");
    }
    Log("WARNING: store: MEMORY. Counters live only in this process: they are lost on exit and "
        "not shared with other replicas. Use --store redis --redis URL in production.",
        telemetry::LogLevel::kWarning);
    store = std::make_unique<MemoryStore>(MemoryStoreOptions{.shard_count = 16});
  } else {
    Fail(absl::StrCat("--store must be memory or redis, got '", store_kind, "'"));
  }

  // Operations: every store call timed and counted, whatever store was built.
  store = std::make_unique<MeteredStore>(std::move(store), metrics);

  // Every replica answers queries from its own read model: loaded from the store, then kept
  // current by following the store's change log.
  ReadModel model(*tasks, store->shard_count());
  ReadModelMetrics model_metrics(metrics, model);  // Operations: how far behind the store.
  FollowerOptions follower_options;
  follower_options.poll_interval = absl::Milliseconds(IntFlag(flags, "follow-interval-ms", 1));
  follower_options.on_error = [&model_metrics](const absl::Status& status) {
    model_metrics.RecordError(status);
    Log(absl::StrCat("following the store failed (retrying): ", status.ToString()),
        telemetry::LogLevel::kWarning);
  };
  follower_options.on_progress = [&model_metrics](const FollowerProgress& progress) {
    model_metrics.Record(progress);
  };
  Follower follower(*store, model, follower_options);
  StatsServiceOptions service_options;
  service_options.max_version_wait = absl::Milliseconds(IntFlag(flags, "max-version-wait-ms", 0));
  service_options.query_timeout = absl::Milliseconds(IntFlag(flags, "query-timeout-ms", 1));
  service_options.committed = [&follower] { follower.Nudge(); };
  StatsService service(*store, *tasks, model, service_options);
  absl::StatusOr<bool> table_changed = service.NoteTaskTable();
  for (int attempt = 0;
       attempt < 20 && !table_changed.ok() && IsRetryableStoreError(table_changed.status());
       ++attempt) {
    absl::SleepFor(absl::Milliseconds(500));
    table_changed = service.NoteTaskTable();
  }
  if (!table_changed.ok()) {
    Fail(absl::StrCat("reading the store's settings failed: ", table_changed.status().ToString()));
  }
  if (*table_changed) {
    Log("the task table differs from the one the last replica started with: this replica "
        "classifies every model with its own table (replicas must run the same table to answer "
        "alike)");
  }
  const absl::Time loading_since = absl::Now();
  follower.Start();

  // Ingest and queries get separate threads: batches waiting out a Redis outage must not
  // hold up queries (which fail fast instead).
  auto query_workers = std::make_unique<WorkerPool>(IntFlag(flags, "workers", 1));
  auto ingest_workers = std::make_unique<WorkerPool>(IntFlag(flags, "ingest-workers", 1));
  IngestLimits limits;
  limits.max_message_bytes = static_cast<size_t>(IntFlag(flags, "max-message-mb", 1)) << 20;
  limits.max_batch_events = static_cast<size_t>(IntFlag(flags, "max-batch-events", 1));
  if (limits.max_batch_events > static_cast<size_t>(kMaxBatchItems)) {
    Fail(absl::StrCat("--max-batch-events must be at most ", kMaxBatchItems));
  }
  const size_t budget_bytes = static_cast<size_t>(IntFlag(flags, "max-inflight-mb", 1)) << 20;
  if (budget_bytes < limits.ReadReservation()) {
    Fail(absl::StrCat("--max-inflight-mb must hold at least one batch read: ",
                      (limits.ReadReservation() + (1 << 20) - 1) >> 20,
                      " MB with --max-message-mb ", limits.max_message_bytes >> 20));
  }
  auto budget = std::make_unique<IngestBudget>(budget_bytes);
  IngestMetrics ingest_metrics(metrics);  // Operations: ingest outcomes, windows, the budget.
  ingest_metrics.WatchBudget(*budget);
  GroupCommitOptions commit_options;
  commit_options.window = absl::Milliseconds(IntFlag(flags, "commit-window-ms", 0));
  commit_options.max_window_events = IntFlag(flags, "commit-window-events", 1);
  commit_options.store_retry_for = absl::Milliseconds(IntFlag(flags, "store-retry-ms", 0));
  commit_options.on_window = [&](const CommittedWindow& window) { ingest_metrics.Record(window); };
  auto committer = std::make_unique<GroupCommitter>(service, commit_options);
  limits.max_upsert_records = static_cast<size_t>(IntFlag(flags, "max-upsert-records", 1));
  // Who may call and how much: TLS, tokens, limits (grpc/edge_security.h).
  EdgeSecuritySettings edge_settings;
  edge_settings.listen = flags.at("listen").value;
  edge_settings.tls = {flags.at("tls-cert").value, flags.at("tls-key").value,
                       flags.at("tls-client-ca").value,
                       absl::Seconds(IntFlag(flags, "tls-reload-s", 1))};
  edge_settings.allow_insecure = BoolFlag(flags, "allow-insecure");
  edge_settings.tokens_file = flags.at("tokens-file").value;
  edge_settings.tokens_reload_interval = absl::Seconds(IntFlag(flags, "tokens-reload-s", 1));
  edge_settings.public_reads = BoolFlag(flags, "public-reads");
  edge_settings.limits = {
      .max_concurrent_calls = static_cast<size_t>(IntFlag(flags, "max-concurrent-calls", 1)),
      .max_query_bytes = static_cast<size_t>(IntFlag(flags, "max-query-kb", 1)) << 10,
      .stream_idle_timeout = absl::Seconds(IntFlag(flags, "stream-idle-timeout-s", 0)),
      .max_client_inflight_bytes = static_cast<size_t>(IntFlag(flags, "max-client-inflight-mb", 1))
                                   << 20};
  if (edge_settings.limits.max_client_inflight_bytes < limits.ReadReservation()) {
    Fail(absl::StrCat("--max-client-inflight-mb must hold at least one batch read: ",
                      (limits.ReadReservation() + (1 << 20) - 1) >> 20, " MB"));
  }
  absl::StatusOr<std::unique_ptr<EdgeSecurity>> edge =
      EdgeSecurity::Create(std::move(edge_settings),
                           [](const std::string& message) { Log(message); });
  if (!edge.ok()) Fail(std::string(edge.status().message()));
  for (const std::string& line : (*edge)->Describe()) Log(line);

  IngestServiceImpl ingest(service, *ingest_workers, *budget, *committer, limits, {},
                           &(*edge)->guard());
  QueryServiceImpl query(service, *query_workers,
                         UnaryAdmission{&(*edge)->guard(), TokenScope::kRead,
                                        (*edge)->guard().limits().max_query_bytes});

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (!BoolFlag(flags, "reflection")) builder.SetOption(WithoutReflection());
  int port = 0;
  builder.AddListeningPort(flags.at("listen").value, (*edge)->credentials(), &port);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             IntFlag(flags, "max-streams-per-connection", 1));
  builder.RegisterService(&ingest);
  builder.RegisterService(&query);
  // The ingest budget's reservations assume no message is larger.
  builder.SetMaxReceiveMessageSize(static_cast<int>(limits.max_message_bytes));
  // Without bandwidth probing, a stream that has no read pending buffers at most the initial
  // window (64 KB): the budget's reservations then bound what ingest streams hold. A pending
  // read still opens the window to the whole message it waits for.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  // Operations: connection age and keepalive for balancers; per-RPC metrics.
  ApplyConnectionOptions(
      {.max_age = MillisecondsFlag(flags, "max-connection-age-ms"),
       .max_age_grace = MillisecondsFlag(flags, "max-connection-age-grace-ms"),
       .keepalive_time = MillisecondsFlag(flags, "keepalive-time-ms"),
       .keepalive_timeout = MillisecondsFlag(flags, "keepalive-timeout-ms"),
       .min_client_ping_interval = MillisecondsFlag(flags, "keepalive-min-ping-interval-ms"),
       .permit_pings_without_calls = IntFlag(flags, "keepalive-permit-without-calls", 0) != 0},
      builder);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<RpcMetrics>(metrics));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) Fail(absl::StrCat("cannot listen on ", flags.at("listen").value));
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  const std::string& listen = flags.at("listen").value;
  Log(absl::StrCat("listening on ", listen.substr(0, listen.rfind(':')), ":", port));
  std::printf("listening on port %d\n", port);
  std::unique_ptr<ProbeServer> probe;
  if (const std::string& probe_listen = flags.at("health-listen").value; !probe_listen.empty()) {
    absl::StatusOr<std::unique_ptr<ProbeServer>> started =
        ProbeServer::Start(probe_listen, *server);
    if (!started.ok()) Fail(std::string(started.status().message()));
    probe = *std::move(started);
    Log(absl::StrCat("health probes (plaintext, grpc.health.v1.Health/Check only) on ",
                     probe_listen.substr(0, probe_listen.rfind(':')), ":", probe->port()));
    std::printf("health port %d\n", probe->port());
  }
  std::fflush(stdout);

  // Health per service (grpc/health.h): ingest, queries and the whole server are SERVING while
  // the store answers and the read model is loaded; liveness only follows the process;
  // NOT_SERVING everywhere from shutdown on.
  ServingHealthOptions health_options;
  health_options.ping = [&store] { return store->Ping(); };
  health_options.ready = [&model, loading_since, loaded = false]() mutable {
    if (!model.ready()) return false;
    if (!loaded) {
      loaded = true;
      Log(absl::StrCat("read model loaded in ", absl::FormatDuration(absl::Now() - loading_since)));
    }
    return true;
  };
  health_options.log = [](bool problem, const std::string& message) {
    Log(message, problem ? telemetry::LogLevel::kWarning : telemetry::LogLevel::kInfo);
  };
  ServingHealth serving(*health, std::move(health_options));
  serving.Start();
  metrics.AddGaugeCallback("hubstats_store_up", "1 while the store (Redis) answers its ping.",
                           [&serving] { return serving.store_answers() ? 1.0 : 0.0; });

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  Log(absl::StrCat("got ", signal_number == SIGTERM ? "SIGTERM" : "SIGINT",
                   ", draining: answering what was read, then ending streams"));
  serving.BeginShutdown();
  const absl::Time deadline =
      absl::Now() + absl::Milliseconds(IntFlag(flags, "shutdown-grace-ms", 0));
  ingest.Drain();
  // Batches waiting out a Redis outage give up at the deadline, so their streams can end.
  committer->StopRetryingAt(deadline - absl::Milliseconds(500));
  server->Shutdown(absl::ToChronoTime(deadline));
  server->Wait();
  if (probe != nullptr) probe->Shutdown(std::chrono::system_clock::now());
  metrics_http.reset();  // No scrape from here on: the budget and the store may go.
  // Every call is over: the pools and the committer run nothing more of theirs.
  const GroupCommitStats commits = committer->stats();
  committer.reset();
  ingest_workers.reset();
  query_workers.reset();
  budget.reset();
  Log(absl::StrCat("stopped; ingest since start: ", commits.events, " events in ", commits.batches,
                   " batches, ", commits.windows, " commit windows, ", commits.retries,
                   " store retries"));
  return 0;
}
