#include "core/version.h"

#include <algorithm>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/field_error.h"

namespace hubstats {

std::string Version::ToString() const { return absl::StrCat(major, "-", minor); }

absl::StatusOr<Version> Version::Parse(absl::string_view text) {
  std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(text, '-');
  Version version;
  if (!absl::SimpleAtoi(parts.first, &version.major) ||
      !absl::SimpleAtoi(parts.second, &version.minor) || parts.first.empty() ||
      parts.second.empty() || parts.first[0] == '+' || parts.second[0] == '+') {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a version"));
  }
  return version;
}

std::string VersionToken::ToString() const {
  return absl::StrJoin(shards, ",", [](std::string* out, const auto& entry) {
    absl::StrAppend(out, entry.first, ":", entry.second.ToString());
  });
}

absl::StatusOr<VersionToken> VersionToken::Parse(absl::string_view text, uint32_t shard_count,
                                                 absl::string_view field) {
  VersionToken token;
  if (text.empty()) return token;
  std::map<uint32_t, Version> shards;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    std::pair<absl::string_view, absl::string_view> entry = absl::StrSplit(part, ':');
    uint32_t shard = 0;
    absl::StatusOr<Version> version = Version::Parse(entry.second);
    if (!absl::SimpleAtoi(entry.first, &shard) || shard >= shard_count || !version.ok()) {
      return InvalidFieldError(field,
                               absl::StrCat("'", part,
                                            "' is not <shard>:<version>; use the token an ingest "
                                            "acknowledgement or a query answer carries"));
    }
    Version& kept = shards[shard];
    kept = std::max(kept, *version);
  }
  token.shards.assign(shards.begin(), shards.end());
  return token;
}

void VersionToken::Merge(const VersionToken& other) {
  std::map<uint32_t, Version> merged(shards.begin(), shards.end());
  for (const auto& [shard, version] : other.shards) {
    Version& kept = merged[shard];
    kept = std::max(kept, version);
  }
  shards.assign(merged.begin(), merged.end());
}

bool VersionToken::ReachedBy(const VersionVector& vector) const {
  return std::all_of(shards.begin(), shards.end(), [&](const auto& entry) {
    return entry.first < vector.size() && vector[entry.first] >= entry.second;
  });
}

}  // namespace hubstats
