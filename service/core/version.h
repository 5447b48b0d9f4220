// Versions of the shared state, as replicas see it.
//
// Every committed change to a shard (a commit window's counts, new model indexes, catalog
// records) gets a Version that increases within the shard. The state of the whole store is a
// VersionVector: one version per shard. A replica's read model has applied a prefix of every
// shard's changes, so its state is exactly the state at its vector, and two replicas at the same
// vector answer alike.
#ifndef HUBSTATS_SERVICE_CORE_VERSION_H_
#define HUBSTATS_SERVICE_CORE_VERSION_H_

#include <compare>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hubstats {

// A shard's version: two numbers compared in order (a Redis stream id "<major>-<minor>"; the
// in-memory store counts in `minor`). {0, 0} is before any change.
struct Version {
  uint64_t major = 0;
  uint64_t minor = 0;

  auto operator<=>(const Version&) const = default;
  // "<major>-<minor>".
  std::string ToString() const;
  // The inverse of ToString; INVALID_ARGUMENT otherwise.
  static absl::StatusOr<Version> Parse(absl::string_view text);
};

// The version of every shard, indexed by shard.
using VersionVector = std::vector<Version>;

// What a client must have seen: for some shards, a version each ("read your writes"). Its text
// form, the token ingest acknowledgements carry and queries take as `min_version`, is
// "<shard>:<major>-<minor>" joined by ','; "" requires nothing.
struct VersionToken {
  std::vector<std::pair<uint32_t, Version>> shards;  // Ascending shard, each once.

  std::string ToString() const;
  // INVALID_ARGUMENT (field `field`) when `text` is not a token for `shard_count` shards.
  static absl::StatusOr<VersionToken> Parse(absl::string_view text, uint32_t shard_count,
                                            absl::string_view field = "min_version");
  // The later of both, shard by shard.
  void Merge(const VersionToken& other);
  // Whether `vector` has reached every version of the token.
  bool ReachedBy(const VersionVector& vector) const;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_CORE_VERSION_H_
