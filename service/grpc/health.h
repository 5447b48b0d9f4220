// ServingHealth: what the gRPC health service (grpc.health.v1.Health) reports, per service, for
// probes, load balancers and clients.
//
//   service                      SERVING while
//   hubstats.v1.IngestService    the store answers a ping and `ready()` (the replica's read model
//   hubstats.v1.QueryService     is loaded), and the server is not shutting down; a balancer
//   ""  (the whole server)       sends nothing to a replica that cannot both commit and answer
//                                at the store's current version
//   liveness                     the process runs and is not shutting down (for liveness probes:
//                                it does not follow the store, so a long store outage does not
//                                get replicas restarted)
//
// Queries keep answering from the read model while the store is down (unless `fresh`), but the
// replica then cannot tell how far behind it is, so it does not invite new traffic.
//
// Everything but `liveness` is NOT_SERVING from construction until the first check. Checks run
// every `period` on the object's thread once started; `BeginShutdown` turns every service
// NOT_SERVING for good, without waiting for a check in progress.
//
// Thread-safe. The health service must outlive this object; `ping` and `ready` are called on
// its thread (ping may block up to the store's timeout).
#ifndef HUBSTATS_SERVICE_GRPC_HEALTH_H_
#define HUBSTATS_SERVICE_GRPC_HEALTH_H_

#include <grpcpp/health_check_service_interface.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace hubstats {

inline constexpr char kIngestHealthService[] = "hubstats.v1.IngestService";
inline constexpr char kQueryHealthService[] = "hubstats.v1.QueryService";
inline constexpr char kLivenessHealthService[] = "liveness";

struct ServingHealthOptions {
  // OK while the store answers.
  std::function<absl::Status()> ping;
  // True once queries can be answered (the read model has loaded). Always, when empty.
  std::function<bool()> ready;
  // Told of every change of the store's or the replica's state (`problem` when it got worse).
  std::function<void(bool problem, const std::string& message)> log;
  absl::Duration period = absl::Milliseconds(500);
};

class ServingHealth {
 public:
  ServingHealth(grpc::HealthCheckServiceInterface& health, ServingHealthOptions options);
  // Stops checking; waits for a check in progress.
  ~ServingHealth();

  // Checks now and then every `period`, on a thread of its own.
  void Start();
  // One check, on the caller's thread (Start's thread runs these).
  void CheckNow();
  // From now on every service, liveness too, is NOT_SERVING; checks stop.
  void BeginShutdown();

  // What the last check found: whether the store answered (false before the first check).
  bool store_answers() const;

 private:
  void Publish(bool store_ok, bool ready);

  grpc::HealthCheckServiceInterface& health_;
  const ServingHealthOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wakeup_;
  bool shutting_down_ = false;
  std::optional<bool> store_ok_;  // As of the last check.
  std::optional<bool> ready_;
  std::thread thread_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_GRPC_HEALTH_H_
