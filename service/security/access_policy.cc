#include "security/access_policy.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace hubstats {
namespace {

constexpr char kHowToSend[] =
    "send the metadata 'authorization: Bearer <token>' (the hubstats clients read the token "
    "from $HUBSTATS_TOKEN or a file: $HUBSTATS_TOKEN_FILE, --token-file)";

}  // namespace

bool Grant::MayProduce(absl::string_view producer_id) const {
  return principal == nullptr || principal->MayProduce(producer_id);
}

std::string Grant::name() const { return principal == nullptr ? "" : principal->name; }

AccessPolicy::AccessPolicy() : tokens_on_(false), public_reads_(true) {}

AccessPolicy::AccessPolicy(TokenSet tokens, bool public_reads)
    : tokens_on_(true), public_reads_(public_reads) {
  SetTokens(std::move(tokens));
}

void AccessPolicy::SetTokens(TokenSet tokens) {
  auto shared = std::make_shared<const TokenSet>(std::move(tokens));
  absl::flat_hash_map<std::string, std::shared_ptr<RateLimiter>> rates;
  std::lock_guard lock(mutex_);
  for (const std::shared_ptr<const Principal>& principal : shared->principals()) {
    if (principal->ingest_rate == 0) continue;
    auto it = rates_.find(principal->name);
    std::shared_ptr<RateLimiter> limiter =
        it != rates_.end() ? it->second
                           : std::make_shared<RateLimiter>(principal->ingest_rate, absl::Now());
    limiter->SetRate(principal->ingest_rate);
    rates.emplace(principal->name, std::move(limiter));
  }
  rates_ = std::move(rates);
  tokens_ = std::move(shared);
}

size_t AccessPolicy::token_count() const {
  std::lock_guard lock(mutex_);
  return tokens_ == nullptr ? 0 : tokens_->size();
}

absl::StatusOr<Grant> AccessPolicy::Authorize(std::optional<absl::string_view> authorization,
                                              TokenScope scope) const {
  if (!tokens_on_) return Grant();
  if (!authorization.has_value()) {
    if (scope == TokenScope::kRead && public_reads_) return Grant();
    return absl::UnauthenticatedError(absl::StrCat("this call needs a token with the scope '",
                                                   ScopeName(scope), "': ", kHowToSend));
  }
  absl::string_view value = *authorization;
  absl::string_view scheme = value.substr(0, value.find(' '));
  if (!absl::EqualsIgnoreCase(scheme, "bearer") || value.size() <= scheme.size() + 1) {
    return absl::UnauthenticatedError(
        absl::StrCat("the authorization metadata is not 'Bearer <token>': ", kHowToSend));
  }
  const absl::string_view token = absl::StripAsciiWhitespace(value.substr(scheme.size() + 1));
  std::shared_ptr<const TokenSet> tokens;
  {
    std::lock_guard lock(mutex_);
    tokens = tokens_;
  }
  Grant grant;
  grant.principal = tokens->Find(token);
  if (grant.principal == nullptr) {
    return absl::UnauthenticatedError(
        "the token is not known to this server (revoked, mistyped, or meant for another "
        "deployment)");
  }
  // A public read is open to every known token, whatever its scopes.
  const bool public_read = scope == TokenScope::kRead && public_reads_;
  if (!public_read && !grant.principal->Has(scope)) {
    return absl::PermissionDeniedError(absl::StrCat("the token '", grant.principal->name,
                                                    "' does not have the scope '", ScopeName(scope),
                                                    "' this call needs"));
  }
  if (scope == TokenScope::kIngest && grant.principal->ingest_rate > 0) {
    std::lock_guard lock(mutex_);
    auto it = rates_.find(grant.principal->name);
    if (it != rates_.end()) grant.rate = it->second;
  }
  return grant;
}

}  // namespace hubstats
