#include "server_flags.h"

#include <algorithm>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "common/command_line.h"

namespace hubstats {

std::map<std::string, ServerFlag> ServerFlags::Defaults() {
  std::map<std::string, ServerFlag> flags;
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
  // Queries are answered from memory and wait for versions without a thread, so the pool is
  // CPU work: one thread a core (on 2 cores 2 measured faster than 8, docs/BENCHMARKS.md).
  add("workers", std::to_string(std::max(2u, std::thread::hardware_concurrency())),
      "threads running queries (default: one a core, at least 2); a query waiting for "
      "min_version or fresh holds none");
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
  add("max-lateness-days", "7",
      "refuse events of a day more than this many days before the server's day (UTC); "
      "'any' counts every day since 2015 (backfills)");
  add("late-events", "reject",
      "what happens to an event later than --max-lateness-days: reject (refused, with its "
      "reason) or all-time (counted into all time only: no day, no range, no trend)");
  add("retention-days", "400",
      "keep downloads per day for this many days (at least 31); older whole months are folded "
      "into monthly totals (all-time, whole-month and month-trend answers stay exact; ranges "
      "that split a folded month are refused); 'forever' folds nothing");
  add("malloc-arenas", "4",
      "glibc malloc arenas (M_ARENA_MAX): fewer hold less memory per thread; 0: glibc's default "
      "(8 per core); the MALLOC_ARENA_MAX environment variable wins when set");
  add("follow-interval-ms", "10", "how often the read model polls the store's change log");
  add("writer-rt-priority", "0",
      "real-time priority (SCHED_FIFO, 1-49) a thread takes while it holds the read model's "
      "lock exclusively, so queries waiting on it do not also wait while the scheduler runs "
      "others; needs CAP_SYS_NICE (or RLIMIT_RTPRIO): the server refuses to start without it; "
      "0: off");
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

absl::StatusOr<ServerFlags> ServerFlags::Parse(int argc, const char* const* argv,
                                               const Getenv& getenv) {
  ServerFlags parsed;
  parsed.defaults_ = Defaults();
  parsed.flags_ = parsed.defaults_;
  client::CommandLineSpec spec;
  for (auto& [name, flag] : parsed.flags_) {
    (flag.is_switch ? spec.switches : spec.value_options).insert(name);
    const std::string variable =
        absl::StrCat("HUBSTATS_", absl::AsciiStrToUpper(absl::StrReplaceAll(name, {{"-", "_"}})));
    if (const char* value = getenv(variable.c_str()); value != nullptr) flag.value = value;
  }
  absl::StatusOr<client::CommandLine> line = client::CommandLine::Parse(argc, argv, spec);
  if (!line.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(line.status().message(), " (see --help)"));
  }
  if (!line->words().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", line->words().front(), "' (flags start with --)"));
  }
  parsed.help_ = line->help();
  for (auto& [name, flag] : parsed.flags_) {
    if (flag.is_switch) {
      if (std::optional<bool> on = line->Switch(name)) flag.value = *on ? "true" : "false";
    } else if (auto it = line->values().find(name); it != line->values().end()) {
      flag.value = it->second;
    }
  }
  return parsed;
}

std::string ServerFlags::HelpText() const {
  std::string text = absl::StrCat(
      kUsage, "\n\nFlags (each also read from HUBSTATS_<NAME>, e.g. HUBSTATS_REDIS_PREFIX):\n");
  for (const auto& [name, flag] : flags_) {
    absl::StrAppendFormat(&text, "  --%-31s %s%s\n", name, flag.help,
                          flag.value.empty() ? "" : absl::StrCat(" [", flag.value, "]"));
  }
  return text;
}

const std::string& ServerFlags::Value(const std::string& name) const {
  return flags_.at(name).value;
}

const std::string& ServerFlags::Default(const std::string& name) const {
  return defaults_.at(name).value;
}

absl::StatusOr<int> ServerFlags::Int(const std::string& name, int minimum) const {
  int value = 0;
  if (!absl::SimpleAtoi(Value(name), &value) || value < minimum) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, " must be a whole number >= ", minimum, ", got '", Value(name), "'"));
  }
  return value;
}

absl::StatusOr<bool> ServerFlags::Bool(const std::string& name) const {
  if (Value(name).empty()) return false;
  std::optional<bool> value = client::ParseBool(Value(name));
  if (!value.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be true or false, got '", Value(name), "'"));
  }
  return *value;
}

}  // namespace hubstats
