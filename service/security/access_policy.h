// AccessPolicy: who may make which call, from the bearer token the call presents.
//
//   tokens off (no token file)   every call is allowed; tokens are ignored
//   tokens on                    a call needs a known token with the call's scope; queries need
//                                none when reads are public (then any known token may read)
//
// Outcomes: UNAUTHENTICATED for a missing token, a malformed `authorization` value or a token
// that is not in the file (also on a public read: a token that is sent must be valid);
// PERMISSION_DENIED for a known token without the scope. Messages name the token (its NAME in
// the file), never its value.
//
// The tokens can be replaced while the server runs (the file changed): calls already admitted
// keep their grant, new calls see the new tokens. Each token's RateLimiter lives as long as a
// token of that name is in the file, so a reload neither resets nor loses its balance.
//
// Thread-safe.
#ifndef HUBSTATS_SERVICE_SECURITY_ACCESS_POLICY_H_
#define HUBSTATS_SERVICE_SECURITY_ACCESS_POLICY_H_

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "security/rate_limiter.h"
#include "security/tokens.h"

namespace hubstats {

// What an admitted call may do.
struct Grant {
  // The token's owner; nullptr when tokens are off or an anonymous public read.
  std::shared_ptr<const Principal> principal;
  // The token's ingest rate; nullptr when unlimited.
  std::shared_ptr<RateLimiter> rate;

  // Whether this call may ingest as `producer_id` (always, without a principal).
  bool MayProduce(absl::string_view producer_id) const;
  // The token's name, or "" without one.
  std::string name() const;
};

class AccessPolicy {
 public:
  // Tokens off: every call is allowed.
  AccessPolicy();
  // Tokens on, with `tokens`; queries need no token when `public_reads`.
  AccessPolicy(TokenSet tokens, bool public_reads);

  bool tokens_on() const { return tokens_on_; }
  bool public_reads() const { return public_reads_; }

  // Replaces the tokens (tokens on only).
  void SetTokens(TokenSet tokens);
  size_t token_count() const;

  // Admits a call that needs `scope`. `authorization` is the call's `authorization` metadata
  // value ("Bearer <token>"), nullopt when it sent none.
  absl::StatusOr<Grant> Authorize(std::optional<absl::string_view> authorization,
                                  TokenScope scope) const;

 private:
  const bool tokens_on_;
  const bool public_reads_;
  mutable std::mutex mutex_;
  std::shared_ptr<const TokenSet> tokens_;
  // By token name: the rate limiters of the tokens with a rate.
  absl::flat_hash_map<std::string, std::shared_ptr<RateLimiter>> rates_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_SECURITY_ACCESS_POLICY_H_
