#include "store/baselines/redis_baselines.h"

#include <hiredis/hiredis.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "core/delta.h"
#include "core/modality.h"
#include "store/redis_client.h"
#include "store/redis_keys.h"

namespace hubstats::baselines {
namespace {

// Per model, what the job derives from its catalog before the clock starts.
struct Known {
  uint32_t shard = 0;
  std::string modality;
  std::array<std::string, 4> aggregates;  // ModelClass::AggregateFields.
};

// Queues commands and reads their replies in chunks, so memory stays bounded.
class Pipe {
 public:
  explicit Pipe(RedisConnection& connection) : connection_(connection) {}
  void Add(std::initializer_list<absl::string_view> command) {
    connection_.Append(command);
    if (++pending_ == kChunk) status_.Update(Drain());
  }
  absl::Status Drain() {
    for (; pending_ > 0; --pending_) {
      absl::StatusOr<RedisReply> reply = connection_.GetReply();
      if (!reply.ok()) return reply.status();
      if (reply->is_error()) return absl::InternalError(absl::StrCat("redis: ", reply->error()));
    }
    return absl::OkStatus();
  }
  absl::Status Finish() {
    status_.Update(Drain());
    return status_;
  }

 private:
  static constexpr int kChunk = 4000;
  RedisConnection& connection_;
  int pending_ = 0;
  absl::Status status_;
};

struct Shared {
  const BaselineOptions& options;
  absl::Span<const BaselineModel> models;
  const std::vector<Known>& known;
  const std::vector<redis_keys::BaselineKeys>& keys;  // Per shard.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> taken{0};    // Events claimed from the sources (for max_events).
  std::atomic<int64_t> applied{0};  // Events whose updates Redis acknowledged.
  std::mutex failure_mutex;
  absl::Status failure;

  // The next event of `source`, unless the run is over.
  bool Next(EventSource& source, BaselineEvent& event) {
    if (stop.load(std::memory_order_relaxed)) return false;
    if (options.max_events > 0 && taken.fetch_add(1) >= options.max_events) return false;
    if (!source(event)) return false;
    if (event.model >= models.size()) {
      Fail(absl::InvalidArgumentError(
          absl::StrCat("event names model ", event.model, " of ", models.size())));
      return false;
    }
    return true;
  }
  void Fail(absl::Status status) {
    std::lock_guard lock(failure_mutex);
    if (failure.ok()) failure = std::move(status);
    stop = true;
  }
};

// direct-redis: eight updates per event, flushed every 500 events.
absl::Status RunDirect(Shared& shared, RedisConnection& connection, EventSource& source) {
  constexpr int kEventsPerFlush = 500;
  Pipe pipe(connection);
  BaselineEvent event;
  for (bool more = true; more;) {
    int events = 0;
    while (events < kEventsPerFlush && (more = shared.Next(source, event))) {
      const BaselineModel& model = shared.models[event.model];
      const Known& known = shared.known[event.model];
      const redis_keys::BaselineKeys& keys = shared.keys[known.shard];
      const std::string minus = absl::StrCat(-event.count), plus = absl::StrCat(event.count);
      for (const std::string& scope :
           {redis_keys::BaselineKeys::AllTime(), redis_keys::BaselineKeys::OfDay(event.day)}) {
        pipe.Add({"ZINCRBY", keys.models(scope), minus, model.model_id});
        pipe.Add({"ZINCRBY", keys.models(scope, known.modality), minus, model.model_id});
        pipe.Add({"ZINCRBY", keys.authors(scope), minus, model.author});
        pipe.Add({"HINCRBY", keys.aggregates(scope), known.aggregates[0], plus});
      }
      ++events;
    }
    if (absl::Status status = pipe.Finish(); !status.ok()) return status;
    shared.applied += events;
  }
  return absl::OkStatus();
}

// diy-coalesce: a window of events summed per model and day, then one update per distinct
// model, author and aggregate counter per scope.
absl::Status RunCoalesce(Shared& shared, RedisConnection& connection, EventSource& source) {
  Pipe pipe(connection);
  BaselineEvent event;
  for (bool more = true; more;) {
    absl::flat_hash_map<std::pair<uint32_t, int32_t>, int64_t> window;  // (model, day number)
    int64_t events = 0;
    while (events < shared.options.coalesce_window && (more = shared.Next(source, event))) {
      window[{event.model, event.day.number()}] += event.count;
      ++events;
    }
    // Sums per scope: the window's days, and all time.
    struct Scope {
      absl::flat_hash_map<uint32_t, int64_t> models;
      absl::flat_hash_map<std::pair<uint32_t, absl::string_view>, int64_t> authors;
      absl::flat_hash_map<std::pair<uint32_t, absl::string_view>, int64_t> aggregates;
    };
    absl::node_hash_map<std::string, Scope> scopes;  // Stable: `all` points into it.
    Scope& all = scopes[redis_keys::BaselineKeys::AllTime()];
    for (const auto& [key, count] : window) {
      const uint32_t index = key.first;
      const Known& known = shared.known[index];
      for (Scope* scope :
           {&all, &scopes[redis_keys::BaselineKeys::OfDay(Day::FromNumber(key.second))]}) {
        scope->models[index] += count;
        scope->authors[{known.shard, shared.models[index].author}] += count;
        for (const std::string& field : known.aggregates) {
          scope->aggregates[{known.shard, field}] += count;
        }
      }
    }
    for (const auto& [name, scope] : scopes) {
      for (const auto& [index, count] : scope.models) {
        const Known& known = shared.known[index];
        const redis_keys::BaselineKeys& keys = shared.keys[known.shard];
        const std::string minus = absl::StrCat(-count);
        pipe.Add({"ZINCRBY", keys.models(name), minus, shared.models[index].model_id});
        pipe.Add(
            {"ZINCRBY", keys.models(name, known.modality), minus, shared.models[index].model_id});
      }
      for (const auto& [author, count] : scope.authors) {
        pipe.Add({"ZINCRBY", shared.keys[author.first].authors(name), absl::StrCat(-count),
                  author.second});
      }
      for (const auto& [field, count] : scope.aggregates) {
        pipe.Add({"HINCRBY", shared.keys[field.first].aggregates(name), field.second,
                  absl::StrCat(count)});
      }
    }
    if (absl::Status status = pipe.Finish(); !status.ok()) return status;
    shared.applied += events;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Baseline> ParseBaseline(absl::string_view name) {
  if (name == "direct-redis") return Baseline::kDirectRedis;
  if (name == "diy-coalesce") return Baseline::kDiyCoalesce;
  return absl::InvalidArgumentError(
      absl::StrCat("baseline must be direct-redis or diy-coalesce, got '", name, "'"));
}

absl::string_view BaselineName(Baseline baseline) {
  return baseline == Baseline::kDirectRedis ? "direct-redis" : "diy-coalesce";
}

absl::StatusOr<BaselineResult> RunBaseline(Baseline baseline, const BaselineOptions& options,
                                           absl::Span<const BaselineModel> models,
                                           const std::function<EventSource(int)>& source_for) {
  if (options.connections < 1 || options.shard_count < 1 || options.coalesce_window < 1 ||
      options.max_events < 0) {
    return absl::InvalidArgumentError(
        "baseline: connections, shards and the coalesce window must be >= 1");
  }
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(options.redis_url);
  if (!endpoint.ok()) return endpoint.status();
  // What a job derives from its catalog up front, before the clock starts.
  std::vector<Known> known(models.size());
  for (size_t i = 0; i < models.size(); ++i) {
    known[i].shard = ShardOf(models[i].author, options.shard_count);
    known[i].modality = std::string(ModalityName(models[i].model_class.modality));
    known[i].aggregates = models[i].model_class.AggregateFields();
  }
  std::vector<redis_keys::BaselineKeys> keys;
  for (uint32_t shard = 0; shard < options.shard_count; ++shard) {
    keys.emplace_back(options.key_prefix, shard);
  }
  std::vector<std::unique_ptr<RedisConnection>> connections;
  for (int c = 0; c < options.connections; ++c) {
    absl::StatusOr<std::unique_ptr<RedisConnection>> connection =
        RedisConnection::Connect(*endpoint, absl::Seconds(2), absl::Seconds(60));
    if (!connection.ok()) return connection.status();
    connections.push_back(*std::move(connection));
  }
  Shared shared{options, models, known, keys};
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int c = 0; c < options.connections; ++c) {
    threads.emplace_back([&, c] {
      EventSource source = source_for(c);
      absl::Status status = baseline == Baseline::kDirectRedis
                                ? RunDirect(shared, *connections[c], source)
                                : RunCoalesce(shared, *connections[c], source);
      if (!status.ok()) shared.Fail(std::move(status));
    });
  }
  // Wait for the duration, or until every thread ran out of events.
  std::thread timer([&] {
    while (absl::Now() - start < options.duration && !shared.stop) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    shared.stop = true;
  });
  for (std::thread& thread : threads) thread.join();
  BaselineResult result;
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  shared.stop = true;
  timer.join();
  result.events = shared.applied.load();
  if (!shared.failure.ok()) return shared.failure;
  return result;
}

absl::Status CheckRedisUrl(absl::string_view redis_url) {
  return ParseRedisUrl(redis_url).status();
}

absl::StatusOr<int64_t> RedisUsedMemory(absl::string_view redis_url) {
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(redis_url);
  if (!endpoint.ok()) return endpoint.status();
  absl::StatusOr<std::unique_ptr<RedisConnection>> connection =
      RedisConnection::Connect(*endpoint, absl::Seconds(2), absl::Seconds(10));
  if (!connection.ok()) return connection.status();
  absl::StatusOr<RedisReply> reply = (*connection)->Command({"INFO", "memory"});
  if (!reply.ok()) return reply.status();
  if (reply->get()->type != REDIS_REPLY_STRING) return absl::InternalError("INFO memory");
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(reply->get()->str, reply->get()->len), "\r\n")) {
    if (absl::ConsumePrefix(&line, "used_memory:")) {
      int64_t bytes = 0;
      if (absl::SimpleAtoi(line, &bytes)) return bytes;
    }
  }
  return absl::InternalError("INFO memory has no used_memory");
}

}  // namespace hubstats::baselines
