#include "core/version.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/field_error.h"

namespace hubstats {
namespace {

// SimpleAtoi alone would also take signs and surrounding spaces.
bool AllDigits(absl::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), absl::ascii_isdigit);
}

}  // namespace

std::string Version::ToString() const { return absl::StrCat(major, "-", minor); }

absl::StatusOr<Version> Version::Parse(absl::string_view text) {
  // Exactly two runs of digits around one '-' (a split into a pair would drop a third part).
  const size_t dash = text.find('-');
  Version version;
  if (dash == absl::string_view::npos || !AllDigits(text.substr(0, dash)) ||
      !AllDigits(text.substr(dash + 1)) ||
      !absl::SimpleAtoi(text.substr(0, dash), &version.major) ||
      !absl::SimpleAtoi(text.substr(dash + 1), &version.minor)) {
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
    const size_t colon = part.find(':');
    const absl::string_view shard_text = part.substr(0, colon);
    uint32_t shard = 0;
    absl::StatusOr<Version> version = colon == absl::string_view::npos
                                          ? absl::InvalidArgumentError("no version")
                                          : Version::Parse(part.substr(colon + 1));
    if (!AllDigits(shard_text) || !absl::SimpleAtoi(shard_text, &shard) || shard >= shard_count ||
        !version.ok()) {
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
