// ClientQuota: how much of the ingest budget one client may hold, so that one client (a
// producer that never reads its acknowledgements, a flood of idle streams) cannot take the
// memory every other client needs.
//
// A client is its token's name when the call presented one, else its IP address: clients
// behind one proxy or NAT without tokens share a quota. Holds are taken next to the
// IngestBudget's, for the same bytes, and released with them.
//
// Thread-safe.
#ifndef HUBSTATS_SERVICE_SECURITY_CLIENT_QUOTA_H_
#define HUBSTATS_SERVICE_SECURITY_CLIENT_QUOTA_H_

#include <cstddef>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace hubstats {

class ClientQuota {
 public:
  explicit ClientQuota(size_t limit_bytes) : limit_(limit_bytes) {}

  // Holds `bytes` for `client` when its total stays within the limit; false (holding nothing)
  // otherwise.
  bool TryHold(const std::string& client, size_t bytes);
  // Gives back `bytes` of what `client` holds.
  void Release(const std::string& client, size_t bytes);

  size_t held(const std::string& client) const;
  size_t limit() const { return limit_; }

 private:
  const size_t limit_;
  mutable std::mutex mutex_;
  absl::flat_hash_map<std::string, size_t> held_;  // Only clients holding something.
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_SECURITY_CLIENT_QUOTA_H_
