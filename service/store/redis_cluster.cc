#include "store/redis_cluster.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace hubstats {
namespace {

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("unexpected cluster map from redis: ", what));
}

bool IsText(const redisReply* reply) {
  return reply != nullptr &&
         (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS);
}

absl::string_view Text(const redisReply* reply) {
  return IsText(reply) ? absl::string_view(reply->str, reply->len) : absl::string_view();
}

// A value of a RESP2 map (a flat array of key, value, key, value...), or null.
const redisReply* MapGet(const redisReply* map, absl::string_view key) {
  if (map == nullptr || map->type != REDIS_REPLY_ARRAY) return nullptr;
  for (size_t i = 0; i + 1 < map->elements; i += 2) {
    if (Text(map->element[i]) == key) return map->element[i + 1];
  }
  return nullptr;
}

// "host:port" of a node, given the endpoint it announces: "?" is unknown (then its IP is used),
// empty or NULL is "the host you asked".
absl::StatusOr<std::string> NodeAddress(const redisReply* endpoint, absl::string_view ip,
                                        long long port, absl::string_view asked_host) {
  absl::string_view host = Text(endpoint);
  if (host == "?") host = ip;
  if (host.empty() || host == "?") host = asked_host;
  if (host.empty()) return Corrupt("a node without an address");
  if (port <= 0 || port > 65535) return Corrupt(absl::StrCat("node port ", port));
  return absl::StrCat(host, ":", port);
}

// Gathers slot ranges and nodes; checks no slot has two masters.
class MapBuilder {
 public:
  MapBuilder() { slots_.assign(kRedisClusterSlots, -1); }

  absl::Status Serve(const std::string& master, long long first, long long last) {
    if (first < 0 || last >= kRedisClusterSlots || first > last) {
      return Corrupt(absl::StrCat("slot range ", first, "-", last));
    }
    auto [it, added] = index_.try_emplace(master, static_cast<int>(addresses_.size()));
    if (added) addresses_.push_back(master);
    for (long long slot = first; slot <= last; ++slot) {
      if (slots_[slot] != -1 && slots_[slot] != it->second) {
        return Corrupt(
            absl::StrCat("slot ", slot, " served by ", addresses_[slots_[slot]], " and ", master));
      }
      slots_[slot] = it->second;
    }
    return absl::OkStatus();
  }

  void Other(const std::string& node) { others_.push_back(node); }

  // Masters numbered in slot order; the others without masters or repeats.
  ClusterSlotMap Finish() && {
    ClusterSlotMap map;
    map.slot_master.assign(kRedisClusterSlots, -1);
    std::vector<int> renumbered(addresses_.size(), -1);
    for (int slot = 0; slot < kRedisClusterSlots; ++slot) {
      const int old = slots_[slot];
      if (old == -1) continue;
      if (renumbered[old] == -1) {
        renumbered[old] = static_cast<int>(map.masters.size());
        map.masters.push_back(addresses_[old]);
      }
      map.slot_master[slot] = renumbered[old];
    }
    for (std::string& node : others_) {
      if (!index_.contains(node) && std::find(map.other_nodes.begin(), map.other_nodes.end(),
                                              node) == map.other_nodes.end()) {
        map.other_nodes.push_back(std::move(node));
      }
    }
    return map;
  }

 private:
  std::vector<int> slots_;
  std::vector<std::string> addresses_;
  absl::flat_hash_map<std::string, int> index_;
  std::vector<std::string> others_;
};

absl::Status ErrorReply(const RedisReply& reply, absl::string_view command) {
  return absl::FailedPreconditionError(absl::StrCat(command, ": ", reply.error()));
}

// The seed with its password masked. Parsing the masked text fails exactly like the original
// (only the password differs), so its error message can be shown.
std::string MaskPassword(absl::string_view seed) {
  const size_t scheme_end = seed.find("://");
  const absl::string_view scheme =
      seed.substr(0, scheme_end == absl::string_view::npos ? 0 : scheme_end + 3);
  absl::string_view rest = seed.substr(scheme.size());
  const size_t at = rest.rfind('@');
  if (at == absl::string_view::npos) return std::string(seed);
  absl::string_view credentials = rest.substr(0, at);
  const size_t colon = credentials.find(':');
  const absl::string_view user =
      colon == absl::string_view::npos ? absl::string_view() : credentials.substr(0, colon + 1);
  return absl::StrCat(scheme, user, "***", rest.substr(at));
}

}  // namespace

absl::StatusOr<std::vector<RedisEndpoint>> ParseClusterSeeds(absl::string_view seeds) {
  std::vector<RedisEndpoint> endpoints;
  std::optional<size_t> with_credentials;  // The first seed that gives a password.
  const std::vector<absl::string_view> items = absl::StrSplit(seeds, ',');
  for (size_t i = 0; i < items.size(); ++i) {
    const absl::string_view item = absl::StripAsciiWhitespace(items[i]);
    const std::string name = absl::StrCat("redis cluster seed ", i + 1);
    if (item.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " is empty (expected host:port,host:port,...)"));
    }
    if (absl::StrContains(item, "://") && !absl::StartsWith(item, "redis://")) {
      return absl::InvalidArgumentError(absl::StrCat(name, " '", MaskPassword(item),
                                                     "': expected host:port or redis://host:port"));
    }
    const std::string url =
        absl::StartsWith(item, "redis://") ? std::string(item) : absl::StrCat("redis://", item);
    absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(url);
    if (!endpoint.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": ", ParseRedisUrl(MaskPassword(url)).status().message()));
    }
    if (endpoint->db != 0) {
      return absl::InvalidArgumentError(absl::StrCat(name, " (", endpoint->ToDisplayString(),
                                                     "): a Redis Cluster has only database 0"));
    }
    if (!endpoint->password.empty()) {
      if (!with_credentials) {
        with_credentials = i;
      } else if (endpoints[*with_credentials].username != endpoint->username ||
                 endpoints[*with_credentials].password != endpoint->password) {
        return absl::InvalidArgumentError(absl::StrCat("redis cluster seeds ",
                                                       *with_credentials + 1, " and ", i + 1,
                                                       " give different credentials"));
      }
    }
    endpoints.push_back(*std::move(endpoint));
  }
  if (with_credentials) {
    const RedisEndpoint shared = endpoints[*with_credentials];
    for (RedisEndpoint& endpoint : endpoints) {
      endpoint.username = shared.username;
      endpoint.password = shared.password;
    }
  }
  return endpoints;
}

int ClusterSlotMap::UnservedSlots() const {
  return static_cast<int>(std::count(slot_master.begin(), slot_master.end(), -1));
}

absl::StatusOr<ClusterSlotMap> ParseClusterShards(const RedisReply& reply,
                                                  absl::string_view asked_host) {
  if (reply.is_error()) return ErrorReply(reply, "CLUSTER SHARDS");
  const redisReply* shards = reply.get();
  if (shards == nullptr || shards->type != REDIS_REPLY_ARRAY) return Corrupt("not an array");
  MapBuilder builder;
  for (size_t s = 0; s < shards->elements; ++s) {
    const redisReply* slots = MapGet(shards->element[s], "slots");
    const redisReply* nodes = MapGet(shards->element[s], "nodes");
    if (slots == nullptr || nodes == nullptr || slots->type != REDIS_REPLY_ARRAY ||
        nodes->type != REDIS_REPLY_ARRAY || slots->elements % 2 != 0) {
      return Corrupt("a shard without slots or nodes");
    }
    std::string master;
    for (size_t n = 0; n < nodes->elements; ++n) {
      const redisReply* node = nodes->element[n];
      const redisReply* port = MapGet(node, "port");
      absl::StatusOr<std::string> address = NodeAddress(
          MapGet(node, "endpoint"), Text(MapGet(node, "ip")),
          port != nullptr && port->type == REDIS_REPLY_INTEGER ? port->integer : 0, asked_host);
      if (!address.ok()) return address.status();
      if (Text(MapGet(node, "role")) == "master" && master.empty()) {
        master = *std::move(address);
      } else {
        builder.Other(*std::move(address));
      }
    }
    if (slots->elements == 0) {
      if (!master.empty()) builder.Other(master);
      continue;
    }
    if (master.empty()) return Corrupt("a shard serving slots without a master");
    for (size_t i = 0; i < slots->elements; i += 2) {
      const redisReply* first = slots->element[i];
      const redisReply* last = slots->element[i + 1];
      if (first->type != REDIS_REPLY_INTEGER || last->type != REDIS_REPLY_INTEGER) {
        return Corrupt("a slot that is not a number");
      }
      if (absl::Status served = builder.Serve(master, first->integer, last->integer);
          !served.ok()) {
        return served;
      }
    }
  }
  return std::move(builder).Finish();
}

absl::StatusOr<ClusterSlotMap> ParseClusterSlots(const RedisReply& reply,
                                                 absl::string_view asked_host) {
  if (reply.is_error()) return ErrorReply(reply, "CLUSTER SLOTS");
  const redisReply* ranges = reply.get();
  if (ranges == nullptr || ranges->type != REDIS_REPLY_ARRAY) return Corrupt("not an array");
  MapBuilder builder;
  for (size_t r = 0; r < ranges->elements; ++r) {
    const redisReply* range = ranges->element[r];
    if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 ||
        range->element[0]->type != REDIS_REPLY_INTEGER ||
        range->element[1]->type != REDIS_REPLY_INTEGER) {
      return Corrupt("a slot range that is not [first, last, master, replicas...]");
    }
    for (size_t n = 2; n < range->elements; ++n) {
      const redisReply* node = range->element[n];
      if (node->type != REDIS_REPLY_ARRAY || node->elements < 2 ||
          node->element[1]->type != REDIS_REPLY_INTEGER) {
        return Corrupt("a node that is not [endpoint, port, ...]");
      }
      // Redis 7 lists the IP in the metadata (4th element) when the endpoint is a hostname.
      const redisReply* metadata = node->elements > 3 ? node->element[3] : nullptr;
      absl::StatusOr<std::string> address = NodeAddress(
          node->element[0], Text(MapGet(metadata, "ip")), node->element[1]->integer, asked_host);
      if (!address.ok()) return address.status();
      if (n > 2) {
        builder.Other(*std::move(address));
      } else if (absl::Status served = builder.Serve(*address, range->element[0]->integer,
                                                     range->element[1]->integer);
                 !served.ok()) {
        return served;
      }
    }
  }
  return std::move(builder).Finish();
}

RedisCluster::RedisCluster(RedisClusterOptions options)
    : RedisTopology(options.retry), options_(std::move(options)) {
  slot_nodes_.assign(kRedisClusterSlots, nullptr);
}

absl::StatusOr<std::unique_ptr<RedisCluster>> RedisCluster::Connect(RedisClusterOptions options) {
  if (options.seeds.empty()) return absl::InvalidArgumentError("redis cluster: no seeds");
  if (options.pool_size < 1) return absl::InvalidArgumentError("redis pool size must be >= 1");
  std::unique_ptr<RedisCluster> cluster(new RedisCluster(std::move(options)));
  if (absl::Status read = cluster->Refresh(); !read.ok()) return read;
  return cluster;
}

RedisEndpoint RedisCluster::EndpointOf(absl::string_view address) const {
  // Every node takes the seeds' credentials; ParseClusterSeeds made them the same.
  RedisEndpoint endpoint = options_.seeds.front();
  const size_t colon = address.rfind(':');
  endpoint.host = std::string(address.substr(0, colon));
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &endpoint.port)) {
    endpoint.port = 0;
  }
  endpoint.db = 0;
  return endpoint;
}

absl::StatusOr<RedisCluster::Node*> RedisCluster::NodeLocked(const std::string& address) {
  if (auto it = nodes_.find(address); it != nodes_.end()) return it->second.get();
  const RedisEndpoint endpoint = EndpointOf(address);
  if (endpoint.host.empty() || endpoint.port <= 0 || endpoint.port > 65535) {
    return Corrupt(absl::StrCat("node address '", address, "'"));
  }
  auto node = std::make_unique<Node>(address, endpoint, options_);
  Node* raw = node.get();
  nodes_.emplace(address, std::move(node));
  return raw;
}

absl::StatusOr<RedisTopology::Lease> RedisCluster::AcquireFrom(Node& node) {
  absl::StatusOr<RedisPool::Lease> lease = node.pool.Acquire();
  if (!lease.ok()) {
    OnTopologyDoubt(node.address);
    return lease.status();
  }
  return Lease(*std::move(lease), node.address);
}

absl::StatusOr<RedisTopology::Lease> RedisCluster::Acquire(int slot) {
  if (slot < 0 || slot >= kRedisClusterSlots) {
    return absl::InvalidArgumentError(absl::StrCat("redis slot ", slot, " is not 0..16383"));
  }
  MaybeRefresh();
  Node* node = nullptr;
  {
    std::shared_lock lock(map_mutex_);
    node = slot_nodes_[slot];
  }
  if (node == nullptr) {
    refresh_wanted_ = true;
    return absl::UnavailableError(absl::StrCat("redis cluster: no master serves slot ", slot));
  }
  return AcquireFrom(*node);
}

absl::StatusOr<RedisTopology::Lease> RedisCluster::AcquireNode(const std::string& address) {
  absl::StatusOr<Node*> node;
  {
    std::unique_lock lock(map_mutex_);
    node = NodeLocked(address);
  }
  if (!node.ok()) return node.status();
  return AcquireFrom(**node);
}

absl::Status RedisCluster::ForEachMaster(absl::FunctionRef<absl::Status(RedisConnection&)> fn) {
  MaybeRefresh();
  std::vector<Node*> masters;
  {
    std::shared_lock lock(map_mutex_);
    for (const std::string& address : masters_) masters.push_back(nodes_.at(address).get());
  }
  if (masters.empty()) return absl::UnavailableError("redis cluster: no master is known");
  absl::Status first_failure;
  for (Node* node : masters) {
    absl::StatusOr<Lease> lease = AcquireFrom(*node);
    absl::Status status = lease.ok() ? fn(**lease) : lease.status();
    if (lease.ok() && (*lease)->broken()) OnTopologyDoubt(node->address);
    if (!status.ok() && first_failure.ok()) first_failure = status;
  }
  return first_failure;
}

std::vector<std::string> RedisCluster::Masters() {
  std::shared_lock lock(map_mutex_);
  return masters_;
}

std::string RedisCluster::MasterOf(int slot) {
  if (slot < 0 || slot >= kRedisClusterSlots) return "";
  std::shared_lock lock(map_mutex_);
  return slot_nodes_[slot] ? slot_nodes_[slot]->address : "";
}

absl::Status RedisCluster::OnMoved(int slot, const std::string& address) {
  std::unique_lock lock(map_mutex_);
  absl::StatusOr<Node*> node = NodeLocked(address);
  if (!node.ok()) return node.status();
  slot_nodes_[slot] = *node;
  if (std::find(masters_.begin(), masters_.end(), address) == masters_.end()) {
    masters_.push_back(address);
  }
  refresh_wanted_ = true;  // One slot moved; likely more did (a reshard or a failover).
  return absl::OkStatus();
}

void RedisCluster::OnTopologyDoubt(const std::string& address) {
  if (!address.empty()) {
    std::unique_lock lock(map_mutex_);
    if (auto it = nodes_.find(address); it != nodes_.end()) {
      // Its other idle connections went through the same failure; do not hand them out.
      it->second->pool.DropIdle();
    }
    suspects_.insert(address);
  }
  refresh_wanted_ = true;
}

void RedisCluster::MaybeRefresh() {
  if (!refresh_wanted_.load(std::memory_order_relaxed)) return;
  std::unique_lock lock(refresh_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;  // Another thread is reading the map; use the current one.
  if (absl::Now() - last_refresh_ < options_.min_refresh_interval) return;
  // A failure leaves the current map and sets refresh_wanted_ again for a later call.
  RefreshLocked().IgnoreError();
}

absl::Status RedisCluster::Refresh() {
  std::lock_guard lock(refresh_mutex_);
  return RefreshLocked();
}

absl::StatusOr<ClusterSlotMap> RedisCluster::ReadMap(const std::string& address) const {
  const RedisEndpoint endpoint = EndpointOf(address);
  absl::StatusOr<std::unique_ptr<RedisConnection>> connection =
      RedisConnection::Connect(endpoint, options_.connect_timeout, options_.command_timeout);
  if (!connection.ok()) return connection.status();
  absl::StatusOr<RedisReply> reply = (*connection)->Command({"CLUSTER", "SHARDS"});
  if (!reply.ok()) return reply.status();
  if (reply->is_error() &&
      absl::StrContains(absl::AsciiStrToLower(reply->error()), "unknown subcommand")) {
    reply = (*connection)->Command({"CLUSTER", "SLOTS"});  // Redis before 7.0.
    if (!reply.ok()) return reply.status();
    return ParseClusterSlots(*reply, endpoint.host);
  }
  return ParseClusterShards(*reply, endpoint.host);
}

absl::Status RedisCluster::RefreshLocked() {
  last_refresh_ = absl::Now();
  // Cleared before reading, so a MOVED seen meanwhile asks for another read.
  refresh_wanted_ = false;
  std::vector<std::string> candidates, doubted;
  {
    std::shared_lock lock(map_mutex_);
    auto add = [&](const std::string& address) {
      if (std::find(candidates.begin(), candidates.end(), address) != candidates.end() ||
          std::find(doubted.begin(), doubted.end(), address) != doubted.end()) {
        return;
      }
      (suspects_.contains(address) ? doubted : candidates).push_back(address);
    };
    for (const std::string& address : masters_) add(address);
    for (const std::string& address : others_) add(address);
    for (const RedisEndpoint& seed : options_.seeds) add(absl::StrCat(seed.host, ":", seed.port));
  }
  candidates.insert(candidates.end(), doubted.begin(), doubted.end());
  absl::Status failure = absl::UnavailableError("redis cluster: no node to ask");
  for (const std::string& address : candidates) {
    absl::StatusOr<ClusterSlotMap> map = ReadMap(address);
    if (map.ok() && map->masters.empty()) map = Corrupt("no master serves any slot");
    if (!map.ok()) {
      // A node outside cluster mode is a configuration error worth reporting as such.
      if (!absl::IsFailedPrecondition(failure)) failure = map.status();
      continue;
    }
    std::unique_lock lock(map_mutex_);
    std::vector<Node*> masters(map->masters.size());
    for (size_t i = 0; i < map->masters.size(); ++i) {
      absl::StatusOr<Node*> node = NodeLocked(map->masters[i]);
      if (!node.ok()) return node.status();
      masters[i] = *node;
    }
    for (int slot = 0; slot < kRedisClusterSlots; ++slot) {
      const int master = map->slot_master[slot];
      slot_nodes_[slot] = master == -1 ? nullptr : masters[master];
    }
    masters_ = std::move(map->masters);
    others_ = std::move(map->other_nodes);
    suspects_.clear();
    ++map_refreshes_;
    return absl::OkStatus();
  }
  refresh_wanted_ = true;
  return absl::Status(failure.code(), absl::StrCat("redis cluster: no node gave a slot map; last: ",
                                                   failure.message()));
}

}  // namespace hubstats
