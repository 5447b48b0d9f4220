// hubstats-server: wires flags, the store, the service and the gRPC server.
//
// Every flag can also come from an environment variable (HUBSTATS_<NAME>, dashes as
// underscores); a flag on the command line wins. Run with --help for the list.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <malloc.h>
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
#include "app/os_thread.h"
#include "app/read_model.h"
#include "app/retention.h"
#include "app/stats_service.h"
#include "app/worker_pool.h"
#include "grpc/edge_security.h"
#include "grpc/ingest_service.h"
#include "grpc/probe_server.h"
#include "grpc/query_service.h"
#include "security/redis_credentials.h"
#include "server_flags.h"
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

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "hubstats-server: %s\n", message.c_str());
  std::exit(2);
}

int IntFlag(const ServerFlags& flags, const std::string& name, int minimum) {
  absl::StatusOr<int> value = flags.Int(name, minimum);
  if (!value.ok()) Fail(std::string(value.status().message()));
  return *value;
}

// --max-lateness-days and --late-events.
EventTimeLimits LatenessFlags(const ServerFlags& flags) {
  EventTimeLimits lateness;
  if (flags.Value("max-lateness-days") != "any") {
    lateness.max_lateness_days = IntFlag(flags, "max-lateness-days", 0);
  }
  if (const std::string& late = flags.Value("late-events"); late == "all-time") {
    lateness.late = LatePolicy::kAllTimeOnly;
  } else if (late != "reject") {
    Fail(absl::StrCat("--late-events must be reject or all-time, got '", late, "'"));
  }
  return lateness;
}

// --retention-days: nullopt for "forever".
std::optional<int> RetentionFlag(const ServerFlags& flags) {
  if (flags.Value("retention-days") == "forever") return std::nullopt;
  return IntFlag(flags, "retention-days", kMinRetentionDays);
}

bool BoolFlag(const ServerFlags& flags, const std::string& name) {
  absl::StatusOr<bool> value = flags.Bool(name);
  if (!value.ok()) Fail(std::string(value.status().message()));
  return *value;
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

absl::Duration MillisecondsFlag(const ServerFlags& flags, const std::string& name) {
  return absl::Milliseconds(IntFlag(flags, name, 0));
}

}  // namespace
}  // namespace hubstats

int main(int argc, char** argv) {
  using namespace hubstats;
  absl::StatusOr<ServerFlags> parsed_flags = ServerFlags::Parse(argc, argv);
  if (!parsed_flags.ok()) {
    Fail(absl::StrCat(parsed_flags.status().message(), "\n", ServerFlags::kUsage));
  }
  if (parsed_flags->help()) {
    std::fputs(parsed_flags->HelpText().c_str(), stdout);
    return 0;
  }
  const ServerFlags& flags = *parsed_flags;
  // Before any thread starts. glibc gives each allocating thread an arena, up to 8 per core;
  // with ~40 threads that kept ~30 MiB more resident under ingest than 4 arenas, at the same
  // ingest rate (docs/BENCHMARKS.md, "Rerun of the Hub-scale data set").
  if (const int arenas = IntFlag(flags, "malloc-arenas", 0);
      arenas > 0 && std::getenv("MALLOC_ARENA_MAX") == nullptr) {
    mallopt(M_ARENA_MAX, arenas);
  }
  // A password in a --redis URL is readable by every local user in /proc/PID/cmdline.
  const int passwords_on_command_line = HideRedisPasswords(argc, argv);

  // Operations: the log's format, the metrics registry and its endpoint (fails fast when the
  // port is taken), build information.
  const std::optional<telemetry::LogFormat> log_format =
      telemetry::ParseLogFormat(flags.Value("log-format"));
  if (!log_format) Fail("--log-format must be text or json");
  RouteGrpcLogs(Logger(log_format));
  // Judged before anything starts, so a bad value fails at once, not after Redis answers.
  const EventTimeLimits lateness = LatenessFlags(flags);
  const std::optional<int> retention_days = RetentionFlag(flags);
  if (passwords_on_command_line > 0) {
    Log("a Redis password was given on the command line, where other local users can read it; "
        "use --redis-password-file or $HUBSTATS_REDIS_PASSWORD",
        telemetry::LogLevel::kWarning);
  }
  telemetry::Registry metrics;
  std::unique_ptr<telemetry::MetricsHttpServer> metrics_http;
  if (const std::string& address = flags.Value("metrics-listen"); !address.empty()) {
    absl::StatusOr<std::unique_ptr<telemetry::MetricsHttpServer>> started =
        telemetry::MetricsHttpServer::Start(address, metrics);
    // The default address is best effort (several servers on one machine, tests); an address
    // that was asked for must work.
    if (!started.ok() && address != flags.Default("metrics-listen")) {
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
  if (const std::string& path = flags.Value("task-table"); !path.empty()) {
    std::ifstream file(path);
    if (!file) Fail(absl::StrCat("cannot read --task-table ", path));
    std::stringstream text;
    text << file.rdbuf();
    absl::StatusOr<TaskTable> table = TaskTable::Parse(text.str());
    if (!table.ok()) Fail(absl::StrCat(path, ": ", table.status().message()));
    custom_tasks = std::make_unique<TaskTable>(*std::move(table));
    tasks = custom_tasks.get();
  }

  const std::string& store_kind = flags.Value("store");
  std::unique_ptr<Store> store;
  if (store_kind == "redis") {
    RedisStoreOptions options;
    if (!flags.Value("redis").empty()) options.url = flags.Value("redis");
    // Credentials from a file or the environment, kept off the command line.
    absl::StatusOr<RedisCredentials> credentials =
        ServiceRedisCredentials(flags.Value("redis-user"), flags.Value("redis-password-file"));
    if (!credentials.ok()) {
      Fail(absl::StrCat("--redis-password-file: ", credentials.status().message()));
    }
    absl::StatusOr<std::string> url = RedisUrlWithCredentials(options.url, *credentials);
    if (!url.ok()) Fail(std::string(url.status().message()));
    options.url = *std::move(url);
    if (auto endpoint = ParseRedisUrl(options.url); endpoint.ok()) {
      Logger().Redact(endpoint->password);  // Whatever a log line quotes, never the password.
    }
    options.key_prefix = flags.Value("redis-prefix");
    if (!flags.Value("shards").empty()) {
      options.shard_count = static_cast<uint32_t>(IntFlag(flags, "shards", 1));
    }
    options.pool_size = IntFlag(flags, "redis-pool", 1);
    options.command_timeout = absl::Milliseconds(IntFlag(flags, "redis-timeout-ms", 1));
    options.query_timeout = absl::Milliseconds(IntFlag(flags, "query-timeout-ms", 1));
    options.wait_replicas = IntFlag(flags, "redis-wait-replicas", 0);
    options.change_log_retention = absl::Seconds(IntFlag(flags, "change-log-seconds", 1));
    options.dense_days = IntFlag(flags, "open-days", 0);
    if (const std::string& seeds = flags.Value("redis-cluster"); !seeds.empty()) {
      if (!flags.Value("redis").empty()) Fail("give --redis or --redis-cluster, not both");
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
            : absl::StrCat("cluster via ", RedactRedisUrl(flags.Value("redis-cluster")));
    Log(absl::StrCat("store: redis ", where, ", prefix '", options.key_prefix, "', ",
                     (*redis)->shard_count(), " shards"));
    store = *std::move(redis);
  } else if (store_kind == "memory" || store_kind.empty()) {
    if (!flags.Value("redis").empty() || !flags.Value("redis-cluster").empty()) {
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

  // Every query waits while the read model's writer holds its lock: with --writer-rt-priority
  // the scheduler does not park that thread meanwhile (docs/DESIGN.md).
  const int writer_priority = IntFlag(flags, "writer-rt-priority", 0);
  if (writer_priority > 0) {
    if (absl::Status status = RealtimeBoost::Check(writer_priority); !status.ok()) {
      Fail(absl::StrCat("--writer-rt-priority ", writer_priority, ": ", status.message()));
    }
    Log(absl::StrCat("the read model's writer runs at real-time priority ", writer_priority,
                     " (SCHED_FIFO) while it holds the model's lock (--writer-rt-priority)"));
  }
  // Every replica answers queries from its own read model: loaded from the store, then kept
  // current by following the store's change log.
  ReadModel model(*tasks, store->shard_count(),
                  ReadModelOptions{.on_exclusive_hold = WriteHoldRecorder(metrics),
                                   .writer_realtime_priority = writer_priority});
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
  service_options.event_limits = lateness;
  Log(lateness.max_lateness_days
          ? absl::StrCat("late events: counted up to ", *lateness.max_lateness_days,
                         " days before the server's day (UTC, --max-lateness-days); later ones ",
                         lateness.late == LatePolicy::kAllTimeOnly
                             ? "count into all time only (--late-events all-time)"
                             : "are refused (--late-events reject)")
          : "late events: every day since 2015 counts (--max-lateness-days any)");
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
  // Retention runs on every replica: the store folds each month once, whoever asks first.
  std::unique_ptr<Retention> retention;
  if (retention_days) {
    RetentionOptions retention_options;
    retention_options.days = *retention_days;
    retention_options.on_error = [](const absl::Status& status) {
      Log(absl::StrCat("retention: folding old days failed (retrying later): ", status.ToString()),
          telemetry::LogLevel::kWarning);
    };
    retention_options.on_fold = [](uint32_t shard, Day month) {
      Log(absl::StrCat("retention: folded the days of ", month.ToString().substr(0, 7),
                       " in shard ", shard, " into a monthly total"));
    };
    retention = std::make_unique<Retention>(*store, retention_options);
    retention->Start();
    Log(absl::StrCat("retention: downloads per day are kept for ", *retention_days,
                     " days (--retention-days); older whole months as monthly totals"));
  } else {
    Log("retention: downloads per day are kept forever (--retention-days forever)");
  }

  // Ingest and queries get separate threads: batches waiting out a Redis outage must not
  // hold up queries (which fail fast instead).
  auto query_workers = std::make_unique<WorkerPool>(IntFlag(flags, "workers", 1), "hs-query");
  auto ingest_workers =
      std::make_unique<WorkerPool>(IntFlag(flags, "ingest-workers", 1), "hs-ingest");
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
  edge_settings.listen = flags.Value("listen");
  edge_settings.tls = {flags.Value("tls-cert"), flags.Value("tls-key"),
                       flags.Value("tls-client-ca"),
                       absl::Seconds(IntFlag(flags, "tls-reload-s", 1))};
  edge_settings.allow_insecure = BoolFlag(flags, "allow-insecure");
  edge_settings.tokens_file = flags.Value("tokens-file");
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
  absl::StatusOr<std::unique_ptr<EdgeSecurity>> edge = EdgeSecurity::Create(
      std::move(edge_settings), [](const std::string& message) { Log(message); });
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
  builder.AddListeningPort(flags.Value("listen"), (*edge)->credentials(), &port);
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
  if (!server || port == 0) Fail(absl::StrCat("cannot listen on ", flags.Value("listen")));
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  const std::string& listen = flags.Value("listen");
  Log(absl::StrCat("listening on ", listen.substr(0, listen.rfind(':')), ":", port));
  std::printf("listening on port %d\n", port);
  std::unique_ptr<ProbeServer> probe;
  if (const std::string& probe_listen = flags.Value("health-listen"); !probe_listen.empty()) {
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
