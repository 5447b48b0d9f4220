// Bearer tokens with scopes: the token file, its parsing, and the lookup of a presented token.
//
// The file holds one token per line, never the token itself, only its SHA-256:
//
//   # NAME       SCOPES             SHA-256 OF THE TOKEN    OPTIONS
//   nightly-job  ingest             sha256:<64 hex digits>  producers=nightly-,backfill- rate=50000
//   dashboard    read               sha256:<64 hex digits>
//   ops          ingest,read,admin  sha256:<64 hex digits>
//
// NAME is 1-64 characters of [A-Za-z0-9._-] (it appears in logs and errors, the token never
// does). SCOPES is a comma-separated list of `ingest` (StreamEvents, UpsertModels), `read` (the
// queries) and `admin` (RPCs that change settings; none exist yet). OPTIONS: `producers=P1,P2`
// binds an ingest token to producer ids starting with one of the prefixes; `rate=N` limits
// its ingest to N events per second (see rate_limiter.h). `#` starts a comment; blank lines
// are skipped. Tokens are random secrets (32 random bytes, e.g. `openssl rand -base64 32`), so
// one SHA-256 is enough: there is nothing to brute-force that a slow hash would protect.
//
// Thread-safety: a TokenSet is immutable after Parse; any thread may call its const methods.
#ifndef HUBSTATS_SERVICE_SECURITY_TOKENS_H_
#define HUBSTATS_SERVICE_SECURITY_TOKENS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hubstats {

enum class TokenScope { kIngest, kRead, kAdmin };

// "ingest", "read", "admin".
const char* ScopeName(TokenScope scope);

using Sha256 = std::array<uint8_t, 32>;

Sha256 Sha256Of(absl::string_view text);
// Lower-case hex, 64 characters.
std::string HexOf(const Sha256& digest);

// Who a token belongs to and what it may do.
struct Principal {
  std::string name;
  bool ingest = false;
  bool read = false;
  bool admin = false;
  // When not empty: the only producer ids (prefixes) this token may ingest as.
  std::vector<std::string> producer_prefixes;
  // Events per second this token may ingest; 0: no limit.
  int64_t ingest_rate = 0;

  bool Has(TokenScope scope) const;
  // Whether batches with `producer_id` may be sent with this token. An empty producer id (no
  // exactly-once identity: the server makes one per stream) is allowed: it takes over no one's
  // sequence.
  bool MayProduce(absl::string_view producer_id) const;
};

class TokenSet {
 public:
  // INVALID_ARGUMENT naming the line and the problem (a bad name, scope, digest or option, a
  // name or digest given twice). The messages never hold a digest.
  static absl::StatusOr<TokenSet> Parse(absl::string_view text);

  // The principal whose token is `token`, or nullptr. Takes the same time whichever entry
  // matches, or none: the presented token is hashed once and compared with every entry in
  // constant time, without stopping at a match.
  std::shared_ptr<const Principal> Find(absl::string_view token) const;

  size_t size() const { return entries_.size(); }
  const std::vector<std::shared_ptr<const Principal>>& principals() const { return principals_; }

 private:
  struct Entry {
    Sha256 digest;
    std::shared_ptr<const Principal> principal;
  };
  std::vector<Entry> entries_;
  std::vector<std::shared_ptr<const Principal>> principals_;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_SECURITY_TOKENS_H_
