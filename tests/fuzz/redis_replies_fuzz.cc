// libFuzzer target: arbitrary bytes as Redis replies (RESP, through hiredis' own reader, as a
// connection reads them), each handed to every parser the store and its router apply to what
// Redis answers: the slot maps of CLUSTER SHARDS and CLUSTER SLOTS (service/store/
// redis_cluster.h), the routing meaning of a reply (MOVED, ASK, TRYAGAIN, ...:
// redis_topology.h), and the typed reply readers (redis_replies.h: text, integers, arrays,
// stream ids as versions).
//
// Invariants: no crash or sanitizer report; a slot map covers exactly the 16384 slots, each
// served by one of its masters or by none; a refused slot map is DATA_LOSS (malformed) or
// FAILED_PRECONDITION (an error reply); a redirect names a slot in range and a node; a
// routing status reads back as the same routing; a refusal of the typed readers is DATA_LOSS
// or (for an error reply) the reply's own status.
#include <hiredis/hiredis.h>

#include <string>

#include "fuzz_check.h"
#include "store/redis_client.h"
#include "store/redis_cluster.h"
#include "store/redis_replies.h"
#include "store/redis_topology.h"

namespace hubstats {
namespace {

constexpr int kSlots = 16384;

void CheckSlotMap(const absl::StatusOr<ClusterSlotMap>& map) {
  if (!map.ok()) {
    FUZZ_CHECK(map.status().code() == absl::StatusCode::kDataLoss ||
               map.status().code() == absl::StatusCode::kFailedPrecondition);
    return;
  }
  FUZZ_CHECK(map->slot_master.size() == static_cast<size_t>(kSlots));
  int unserved = 0;
  for (int master : map->slot_master) {
    FUZZ_CHECK(master >= -1 && master < static_cast<int>(map->masters.size()));
    if (master == -1) ++unserved;
  }
  FUZZ_CHECK(map->UnservedSlots() == unserved);
}

void CheckRouting(const RedisReply& reply) {
  const RedisRouting routing = ClassifyReply(reply);
  if (routing.kind == RedisRouting::Kind::kMoved || routing.kind == RedisRouting::Kind::kAsk) {
    FUZZ_CHECK(routing.slot >= 0 && routing.slot < kSlots);
    FUZZ_CHECK(!routing.node.empty());
  }
  const absl::Status status = RoutingStatus(reply);
  FUZZ_CHECK(status.ok() == (routing.kind == RedisRouting::Kind::kNone));
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == absl::StatusCode::kUnavailable);
    const std::optional<RedisRouting> back = RoutingOf(status);
    FUZZ_CHECK(back.has_value());
    FUZZ_CHECK(back->kind == routing.kind && back->slot == routing.slot &&
               back->node == routing.node && back->refresh_map == routing.refresh_map);
  }
}

// DATA_LOSS, or whatever an error reply itself says.
bool AcceptableRefusal(const absl::Status& status, const redisReply* reply) {
  if (status.code() == absl::StatusCode::kDataLoss) return true;
  return reply != nullptr && reply->type == REDIS_REPLY_ERROR;
}

void CheckTypedReaders(const redisReply* reply) {
  const absl::StatusOr<std::optional<absl::string_view>> text = ReplyText(reply, "fuzz");
  if (!text.ok()) FUZZ_CHECK(AcceptableRefusal(text.status(), reply));
  const absl::StatusOr<int64_t> integer = ReplyInteger(reply, "fuzz", -7);
  if (!integer.ok()) FUZZ_CHECK(AcceptableRefusal(integer.status(), reply));
  const absl::StatusOr<std::vector<const redisReply*>> array = ReplyArray(reply, "fuzz");
  if (array.ok()) {
    FUZZ_CHECK(reply != nullptr && array->size() == reply->elements);
    for (const redisReply* element : *array) {
      (void)ReplyVersion(element, "fuzz element");
    }
  } else {
    FUZZ_CHECK(AcceptableRefusal(array.status(), reply));
  }
  const absl::StatusOr<Version> version = ReplyVersion(reply, "fuzz");
  if (!version.ok()) FUZZ_CHECK(AcceptableRefusal(version.status(), reply));
}

}  // namespace
}  // namespace hubstats

// hiredis 0.14 allocates an aggregate's declared element count up front (a header "*499999999"
// asks for 4 GB before any element arrives). Replies come from the Redis server, which we trust
// with sizes, so inputs declaring more than this many elements in one aggregate are skipped
// rather than reported as hiredis running out of memory (found by CI's 30 s run, 2026-12-02).
constexpr long long kMaxDeclaredElements = 1'000'000;

bool DeclaresHugeAggregate(const uint8_t* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    if (data[i] != '*' && data[i] != '%' && data[i] != '~' && data[i] != '>') continue;
    long long count = 0;
    for (size_t j = i + 1; j < size && data[j] >= '0' && data[j] <= '9'; ++j) {
      count = count * 10 + (data[j] - '0');
      if (count > kMaxDeclaredElements) return true;
    }
  }
  return false;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hubstats;
  if (DeclaresHugeAggregate(data, size)) return 0;
  redisReader* reader = redisReaderCreate();
  if (redisReaderFeed(reader, reinterpret_cast<const char*>(data), size) == REDIS_OK) {
    for (int replies = 0; replies < 64; ++replies) {
      void* parsed = nullptr;
      if (redisReaderGetReply(reader, &parsed) != REDIS_OK || parsed == nullptr) break;
      const RedisReply reply(static_cast<redisReply*>(parsed));
      CheckSlotMap(ParseClusterShards(reply, "asked.example"));
      CheckSlotMap(ParseClusterSlots(reply, "asked.example"));
      CheckRouting(reply);
      CheckTypedReaders(reply.get());
    }
  }
  redisReaderFree(reader);
  return 0;
}
