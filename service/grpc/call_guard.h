// CallGuard: what every hubstats call passes at the gRPC edge before any work is done for it:
// its token (AccessPolicy: UNAUTHENTICATED / PERMISSION_DENIED) and a place among the calls in
// progress (RESOURCE_EXHAUSTED beyond --max-concurrent-calls). It also holds the limits the
// handlers apply later (request sizes, idle streams, each client's share of the ingest budget).
//
// Health and reflection are gRPC's own services: they pass no guard, so probes need no token.
// Every hubstats.v1 method has its scope in ScopeOfMethod; call_guard_test.cc fails when a
// method of the proto has none, so a new RPC cannot be served unguarded by mistake.
//
// Thread-safe. Borrows the policy, which must outlive the guard; admissions must not outlive
// it either.
#ifndef HUBSTATS_SERVICE_GRPC_CALL_GUARD_H_
#define HUBSTATS_SERVICE_GRPC_CALL_GUARD_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "security/access_policy.h"
#include "security/client_quota.h"

namespace hubstats {

struct CallLimits {
  // Calls of the hubstats services in progress at once, streams included.
  size_t max_concurrent_calls = 1000;
  // Largest query request (queries are small; ingest messages have their own limit).
  size_t max_query_bytes = 64 << 10;
  // An ingest stream that has nothing in flight and receives no batch for this long is ended
  // with UNAVAILABLE. Zero: never.
  absl::Duration stream_idle_timeout = absl::Seconds(60);
  // Of the ingest budget, what one client (token, or IP address without one) may hold.
  size_t max_client_inflight_bytes = size_t{256} << 20;
};

// The scope a method needs ("/hubstats.v1.QueryService/GetTotals" -> read); nullopt for a
// method that is not a hubstats.v1 method.
std::optional<TokenScope> ScopeOfMethod(absl::string_view method);

class CallGuard;

// An admitted call: its grant and its place among the calls in progress, given back when the
// admission is destroyed. Move-only.
class Admission {
 public:
  Admission() = default;
  Admission(Admission&& other) noexcept;
  Admission& operator=(Admission&& other) noexcept;
  ~Admission();

  const Grant& grant() const { return grant_; }
  // Whose share of the ingest budget this call's holds count against.
  const std::string& client() const { return client_; }

 private:
  friend class CallGuard;
  Grant grant_;
  std::string client_;
  CallGuard* guard_ = nullptr;
};

class CallGuard {
 public:
  CallGuard(const AccessPolicy& policy, CallLimits limits);

  // Admits a call that needs `scope`, from its `authorization` metadata. UNAUTHENTICATED,
  // PERMISSION_DENIED (see AccessPolicy), or RESOURCE_EXHAUSTED when max_concurrent_calls are
  // in progress.
  absl::StatusOr<Admission> Admit(const grpc::ServerContextBase& context, TokenScope scope);

  const CallLimits& limits() const { return limits_; }
  ClientQuota& quota() { return quota_; }
  size_t calls_in_progress() const { return calls_.load(); }

  // The `authorization` metadata of a call, nullopt without one (or with several).
  static std::optional<absl::string_view> AuthorizationOf(const grpc::ServerContextBase& context);
  // The IP address of the call's peer ("ipv4:10.0.0.7:53211" -> "10.0.0.7").
  static std::string PeerAddressOf(const grpc::ServerContextBase& context);

 private:
  friend class Admission;
  void Leave() { calls_.fetch_sub(1); }

  const AccessPolicy& policy_;
  const CallLimits limits_;
  ClientQuota quota_;
  std::atomic<size_t> calls_{0};
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_GRPC_CALL_GUARD_H_
