// Bench-only: what hubstats-bench measures hubstats against. Two do-it-yourself ways of keeping
// the same statistics straight in Redis, each fed the same stream of download events:
//
// * direct-redis: every event, as it comes, pipelined as eight updates (for all time and its
//   day: the model ranking, the model's modality ranking, the author ranking, the size
//   counter).
// * diy-coalesce: what a competent ingestion engineer writes in an afternoon. Each connection
//   sums a window of events (100,000 by default) per model and day in memory, then pipelines,
//   per scope (all time, each day of the window): one ZINCRBY per distinct model into the model
//   ranking and one into its modality's ranking, one ZINCRBY per distinct author, and one
//   HINCRBY per distinct aggregate counter (size, task, architecture, library: the four of
//   ModelClass::AggregateFields).
//
// What both leave out, and hubstats does not: exactly-once (a re-sent batch counts again; a
// crash mid-window loses or doubles part of it), classes known up front (a catalog change
// does not move history; models without a record are not classified later), revisions, the
// per-author limit, per-day author rankings by modality, a change log or versions for replicas
// to follow, and acknowledgements (nothing tells a producer what was counted). diy-coalesce also
// delays every count by up to a window.
//
// The keys (redis_keys::BaselineKeys) are under their own prefix; the store never reads them.
// Nothing here is used by the server.
#ifndef HUBSTATS_SERVICE_STORE_BASELINES_REDIS_BASELINES_H_
#define HUBSTATS_SERVICE_STORE_BASELINES_REDIS_BASELINES_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/day.h"
#include "core/model_class.h"

namespace hubstats::baselines {

enum class Baseline { kDirectRedis, kDiyCoalesce };
// "direct-redis" or "diy-coalesce"; INVALID_ARGUMENT naming both otherwise.
absl::StatusOr<Baseline> ParseBaseline(absl::string_view name);
absl::string_view BaselineName(Baseline baseline);

// What the job knows of a model before it starts (its catalog).
struct BaselineModel {
  std::string model_id;
  std::string author;
  ModelClass model_class;
};

// One download event: the model (its position in the models given to RunBaseline), the day
// and the count.
struct BaselineEvent {
  uint32_t model = 0;
  Day day;
  int64_t count = 1;
};

// Fills `event` with the next event of one connection's stream; false once it has none.
// Called from that connection's thread only.
using EventSource = std::function<bool(BaselineEvent& event)>;

struct BaselineOptions {
  std::string redis_url = "redis://127.0.0.1:6379";
  std::string key_prefix = "hubstats-baseline";
  uint32_t shard_count = 16;          // Keys are spread over shard tags like hubstats' (ShardOf).
  int connections = 4;                // Threads, each with its own connection and event source.
  int64_t coalesce_window = 100'000;  // diy-coalesce: events summed per connection per flush.
  // The run ends at whichever comes first: `duration`, `max_events` applied in all (0: no
  // limit), or every source running dry.
  absl::Duration duration = absl::Seconds(20);
  int64_t max_events = 0;
};

struct BaselineResult {
  int64_t events = 0;  // Applied (acknowledged by Redis).
  double seconds = 0;  // From the first event to the last reply.
  double events_per_s() const { return seconds > 0 ? events / seconds : 0; }
};

// Runs `baseline` on `options.connections` threads; `source_for(c)` makes connection c's
// stream. UNAVAILABLE when Redis cannot be reached or a connection fails mid-run (what was
// applied before stays applied); INVALID_ARGUMENT for bad options or an event naming no model.
absl::StatusOr<BaselineResult> RunBaseline(Baseline baseline, const BaselineOptions& options,
                                           absl::Span<const BaselineModel> models,
                                           const std::function<EventSource(int)>& source_for);

// OK for a URL RunBaseline and RedisUsedMemory take (redis://[[user]:password@]host[:port][/db]);
// INVALID_ARGUMENT saying what is wrong, with any password masked.
absl::Status CheckRedisUrl(absl::string_view redis_url);

// Redis' used_memory (INFO memory), in bytes.
absl::StatusOr<int64_t> RedisUsedMemory(absl::string_view redis_url);

}  // namespace hubstats::baselines

#endif  // HUBSTATS_SERVICE_STORE_BASELINES_REDIS_BASELINES_H_
