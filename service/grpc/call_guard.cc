#include "grpc/call_guard.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace hubstats {

std::optional<TokenScope> ScopeOfMethod(absl::string_view method) {
  if (absl::ConsumePrefix(&method, "/hubstats.v1.IngestService/")) {
    if (method == "StreamEvents" || method == "UpsertModels") return TokenScope::kIngest;
    return std::nullopt;
  }
  if (absl::ConsumePrefix(&method, "/hubstats.v1.QueryService/")) {
    if (method == "GetModalityShare" || method == "GetSizeDistribution" || method == "GetTopN" ||
        method == "GetBreakdown" || method == "GetTotals" || method == "GetModelStats" ||
        method == "GetTrend" || method == "GetCrossTab" || method == "ExportModels") {
      return TokenScope::kRead;
    }
  }
  return std::nullopt;
}

Admission::Admission(Admission&& other) noexcept
    : grant_(std::move(other.grant_)),
      client_(std::move(other.client_)),
      guard_(std::exchange(other.guard_, nullptr)) {}

Admission& Admission::operator=(Admission&& other) noexcept {
  if (this != &other) {
    if (guard_ != nullptr) guard_->Leave();
    grant_ = std::move(other.grant_);
    client_ = std::move(other.client_);
    guard_ = std::exchange(other.guard_, nullptr);
  }
  return *this;
}

Admission::~Admission() {
  if (guard_ != nullptr) guard_->Leave();
}

CallGuard::CallGuard(const AccessPolicy& policy, CallLimits limits)
    : policy_(policy), limits_(limits), quota_(limits.max_client_inflight_bytes) {}

absl::StatusOr<Admission> CallGuard::Admit(const grpc::ServerContextBase& context,
                                           TokenScope scope) {
  absl::StatusOr<Grant> grant = policy_.Authorize(AuthorizationOf(context), scope);
  if (!grant.ok()) return grant.status();
  if (calls_.fetch_add(1) >= limits_.max_concurrent_calls) {
    calls_.fetch_sub(1);
    return absl::ResourceExhaustedError(
        absl::StrCat("the server is handling its maximum of ", limits_.max_concurrent_calls,
                     " calls (--max-concurrent-calls): retry later, or elsewhere"));
  }
  Admission admission;
  admission.guard_ = this;
  admission.grant_ = *std::move(grant);
  admission.client_ = admission.grant_.principal != nullptr
                          ? absl::StrCat("token:", admission.grant_.principal->name)
                          : absl::StrCat("address:", PeerAddressOf(context));
  return admission;
}

std::optional<absl::string_view> CallGuard::AuthorizationOf(
    const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  if (metadata.count("authorization") != 1) return std::nullopt;
  const grpc::string_ref value = metadata.find("authorization")->second;
  return absl::string_view(value.data(), value.size());
}

std::string CallGuard::PeerAddressOf(const grpc::ServerContextBase& context) {
  const std::string address = context.peer();  // peer() returns a copy: keep it alive.
  absl::string_view peer = address;
  if (absl::ConsumePrefix(&peer, "ipv6:")) {
    absl::ConsumePrefix(&peer, "[");
    return std::string(peer.substr(0, peer.rfind(']')));
  }
  absl::ConsumePrefix(&peer, "ipv4:");
  return std::string(peer.substr(0, peer.rfind(':')));
}

}  // namespace hubstats
