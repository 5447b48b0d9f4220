#include "store/redis_topology.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace hubstats {
namespace {

constexpr std::array<uint16_t, 256> MakeCrc16Table() {
  std::array<uint16_t, 256> table{};
  for (int byte = 0; byte < 256; ++byte) {
    uint16_t crc = static_cast<uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
    table[byte] = crc;
  }
  return table;
}
constexpr std::array<uint16_t, 256> kCrc16Table = MakeCrc16Table();

// The payload RoutingStatus attaches: "<kind> <slot> <refresh> <node>".
constexpr absl::string_view kRoutingPayload = "type.hubstats/redis.routing";

// "<slot> <host:port>" of a MOVED or ASK error.
bool ParseRedirectTarget(absl::string_view rest, RedisRouting& routing) {
  std::vector<absl::string_view> parts = absl::StrSplit(rest, ' ');
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &routing.slot) || routing.slot < 0 ||
      routing.slot >= kRedisClusterSlots) {
    return false;
  }
  // Redis 7 sends ":port" when the node's endpoint is unknown: the host is the one asked (Run
  // fills it in).
  const size_t colon = parts[1].rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(parts[1].substr(colon + 1), &port) ||
      port <= 0 || port > 65535) {
    return false;
  }
  routing.node = std::string(parts[1]);
  return true;
}

absl::Duration Backoff(int attempt, const RedisRetryOptions& options) {
  absl::Duration delay = options.initial_backoff;
  for (int i = 1; i < attempt && delay < options.max_backoff; ++i) delay *= 2;
  return std::min(delay, options.max_backoff);
}

}  // namespace

uint16_t RedisCrc16(absl::string_view data) {
  uint16_t crc = 0;
  for (unsigned char byte : data) {
    crc = static_cast<uint16_t>((crc << 8) ^ kCrc16Table[((crc >> 8) ^ byte) & 0xff]);
  }
  return crc;
}

int RedisKeySlot(absl::string_view key) {
  // As Redis' keyHashSlot: an empty tag ("{}") does not count, and only the first '{' opens one.
  if (size_t open = key.find('{'); open != absl::string_view::npos) {
    if (size_t close = key.find('}', open + 1);
        close != absl::string_view::npos && close != open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return RedisCrc16(key) & (kRedisClusterSlots - 1);
}

RedisRouting ClassifyReply(const RedisReply& reply) {
  RedisRouting routing;
  if (!reply.is_error()) return routing;
  std::string error = reply.error();
  const size_t space = error.find(' ');
  const absl::string_view code = absl::string_view(error).substr(0, space);
  const absl::string_view rest =
      space == std::string::npos ? absl::string_view() : absl::string_view(error).substr(space + 1);
  if (code == "MOVED" || code == "ASK") {
    if (ParseRedirectTarget(rest, routing)) {
      routing.kind = code == "MOVED" ? RedisRouting::Kind::kMoved : RedisRouting::Kind::kAsk;
    } else {
      routing = RedisRouting();
    }
  } else if (code == "TRYAGAIN" || code == "LOADING" || code == "MASTERDOWN") {
    routing.kind = RedisRouting::Kind::kRetry;
  } else if (code == "CLUSTERDOWN" || code == "READONLY") {
    // The node we asked no longer serves (the slot is uncovered or the node became a replica):
    // the map needs reading again.
    routing.kind = RedisRouting::Kind::kRetry;
    routing.refresh_map = true;
  }
  if (routing.kind != RedisRouting::Kind::kNone) routing.error = std::move(error);
  return routing;
}

absl::Status RoutingStatus(const RedisReply& reply) {
  RedisRouting routing = ClassifyReply(reply);
  if (routing.kind == RedisRouting::Kind::kNone) return absl::OkStatus();
  absl::Status status = absl::UnavailableError(absl::StrCat("redis: ", routing.error));
  status.SetPayload(kRoutingPayload,
                    absl::Cord(absl::StrCat(static_cast<int>(routing.kind), " ", routing.slot, " ",
                                            routing.refresh_map ? 1 : 0, " ", routing.node)));
  return status;
}

std::optional<RedisRouting> RoutingOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kRoutingPayload);
  if (!payload) return std::nullopt;
  std::vector<std::string> parts = absl::StrSplit(std::string(*payload), absl::MaxSplits(' ', 3));
  RedisRouting routing;
  int kind = 0, refresh = 0;
  if (parts.size() != 4 || !absl::SimpleAtoi(parts[0], &kind) ||
      !absl::SimpleAtoi(parts[1], &routing.slot) || !absl::SimpleAtoi(parts[2], &refresh)) {
    return std::nullopt;
  }
  routing.kind = static_cast<RedisRouting::Kind>(kind);
  routing.refresh_map = refresh != 0;
  routing.node = std::move(parts[3]);
  routing.error = std::string(absl::StripPrefix(status.message(), "redis: "));
  return routing;
}

RedisRetryDecision DecideRetry(const absl::Status& outcome, bool sent, bool connection_broken,
                               Idempotence idempotence, int attempt,
                               const RedisRetryOptions& options) {
  RedisRetryDecision decision;
  if (outcome.ok()) return decision;
  const bool retryable = absl::IsUnavailable(outcome) || absl::IsDeadlineExceeded(outcome);
  // Nothing reached Redis when no connection was had; a broken connection may have delivered
  // the sequence, and only an idempotent one may go again.
  decision.connection_failed = retryable && (!sent || connection_broken);
  bool again = false;
  if (std::optional<RedisRouting> routing = RoutingOf(outcome)) {
    decision.routing = *std::move(routing);
    again = true;
    if (decision.routing.kind == RedisRouting::Kind::kAsk) {
      decision.action = RedisRetryDecision::Action::kAsk;
    } else if (decision.routing.kind == RedisRouting::Kind::kRetry) {
      decision.delay = Backoff(attempt, options);
    }
  } else if (decision.connection_failed) {
    again = !sent || idempotence == Idempotence::kIdempotent;
    decision.delay = Backoff(attempt, options);
  }
  if (!again || attempt >= options.max_attempts) {
    decision.exhausted = again;
    decision.action = RedisRetryDecision::Action::kReturn;
    decision.delay = absl::ZeroDuration();
  } else if (decision.action != RedisRetryDecision::Action::kAsk) {
    decision.action = RedisRetryDecision::Action::kRetry;
  }
  return decision;
}

absl::Status RedisTopology::Run(int slot, Idempotence idempotence, Sequence sequence) {
  const absl::Time deadline = absl::Now() + retry_options_.budget;
  std::string ask_node;
  for (int attempt = 1;; ++attempt) {
    absl::Status outcome;
    std::string node;
    bool sent = false, broken = false;
    {
      absl::StatusOr<Lease> lease = ask_node.empty() ? Acquire(slot) : AcquireNode(ask_node);
      if (!lease.ok()) {
        outcome = lease.status();
      } else {
        node = lease->node();
        sent = true;
        if (!ask_node.empty()) outcome = SendAsking(**lease);
        if (outcome.ok()) outcome = sequence(**lease);
        broken = (*lease)->broken();
      }
    }  // The connection goes back to its pool before anything below blocks.
    ask_node.clear();
    RedisRetryDecision decision =
        DecideRetry(outcome, sent, broken, idempotence, attempt, retry_options_);
    if (decision.connection_failed) {
      ++connection_failures_;
      OnTopologyDoubt(node);
    }
    RedisRouting& routing = decision.routing;
    if (absl::StartsWith(routing.node, ":")) {
      // ":port": the node we asked knows the target only by port; it is on the same host.
      routing.node = absl::StrCat(node.substr(0, node.rfind(':')), routing.node);
    }
    switch (routing.kind) {
      case RedisRouting::Kind::kMoved:
        ++moved_;
        if (absl::Status moved = OnMoved(routing.slot, routing.node); !moved.ok()) return moved;
        break;
      case RedisRouting::Kind::kAsk:
        ++asked_;
        break;
      case RedisRouting::Kind::kRetry:
        ++retried_;
        if (routing.refresh_map) OnTopologyDoubt("");
        break;
      case RedisRouting::Kind::kNone:
        break;
    }
    const bool out_of_time = decision.action != RedisRetryDecision::Action::kReturn &&
                             absl::Now() + decision.delay > deadline;
    if (decision.exhausted || out_of_time) {
      return absl::Status(outcome.code(), absl::StrCat("redis: gave up after ", attempt,
                                                       " attempts: ", outcome.message()));
    }
    if (decision.action == RedisRetryDecision::Action::kReturn) return outcome;
    if (decision.action == RedisRetryDecision::Action::kAsk) ask_node = routing.node;
    if (decision.delay > absl::ZeroDuration()) absl::SleepFor(decision.delay);
  }
}

absl::Status RedisTopology::SendAsking(RedisConnection& connection) {
  absl::StatusOr<RedisReply> reply = connection.Command({"ASKING"});
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return absl::InternalError(absl::StrCat("redis ASKING: ", reply->error()));
  return absl::OkStatus();
}

absl::StatusOr<RedisReply> RedisTopology::Command(int slot, const std::vector<std::string>& args,
                                                  Idempotence idempotence) {
  RedisReply result;
  absl::Status status = Run(slot, idempotence, [&](RedisConnection& connection) -> absl::Status {
    absl::StatusOr<RedisReply> reply = connection.Command(args);
    if (!reply.ok()) return reply.status();
    if (absl::Status routing = RoutingStatus(*reply); !routing.ok()) return routing;
    result = *std::move(reply);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

RedisTopology::Stats RedisTopology::stats() const {
  return {moved_.load(), asked_.load(), retried_.load(), connection_failures_.load(),
          map_refreshes_.load()};
}

SingleRedisTopology::SingleRedisTopology(RedisEndpoint endpoint, int pool_size,
                                         absl::Duration connect_timeout,
                                         absl::Duration command_timeout,
                                         RedisRetryOptions retry_options)
    : RedisTopology(retry_options),
      pool_(endpoint, pool_size, connect_timeout, command_timeout),
      node_(absl::StrCat(endpoint.host, ":", endpoint.port)) {}

absl::StatusOr<RedisTopology::Lease> SingleRedisTopology::Acquire(int slot) {
  if (slot < 0 || slot >= kRedisClusterSlots) {
    return absl::InvalidArgumentError(absl::StrCat("redis slot ", slot, " is not 0..16383"));
  }
  absl::StatusOr<RedisPool::Lease> lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  return Lease(*std::move(lease), node_);
}

absl::Status SingleRedisTopology::ForEachMaster(
    absl::FunctionRef<absl::Status(RedisConnection&)> fn) {
  absl::StatusOr<RedisPool::Lease> lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  return fn(**lease);
}

absl::StatusOr<RedisTopology::Lease> SingleRedisTopology::AcquireNode(const std::string& node) {
  return absl::FailedPreconditionError(
      absl::StrCat("redis ", pool_.endpoint().ToDisplayString(), " redirected to ", node,
                   ": it is a Redis Cluster node (use --redis-cluster)"));
}

absl::Status SingleRedisTopology::OnMoved(int, const std::string& node) {
  return AcquireNode(node).status();
}

void SingleRedisTopology::OnTopologyDoubt(const std::string&) { pool_.DropIdle(); }

}  // namespace hubstats
