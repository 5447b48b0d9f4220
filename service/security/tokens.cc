#include "security/tokens.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace hubstats {
namespace {

constexpr size_t kMaxNameLength = 64;
constexpr size_t kMaxPrefixLength = 128;  // A producer id's length.

bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

// A producer id prefix: the characters a producer id may hold ([A-Za-z0-9._:-]).
bool ValidPrefix(absl::string_view prefix) {
  if (prefix.empty() || prefix.size() > kMaxPrefixLength) return false;
  for (char c : prefix) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-' &&
        c != ':') {
      return false;
    }
  }
  return true;
}

bool ParseDigest(absl::string_view text, Sha256& digest) {
  if (!absl::ConsumePrefix(&text, "sha256:") || text.size() != 2 * digest.size()) return false;
  for (size_t i = 0; i < digest.size(); ++i) {
    int value = 0;
    for (char c : text.substr(2 * i, 2)) {
      const char lower = absl::ascii_tolower(static_cast<unsigned char>(c));
      int nibble = 0;
      if (lower >= '0' && lower <= '9') {
        nibble = lower - '0';
      } else if (lower >= 'a' && lower <= 'f') {
        nibble = lower - 'a' + 10;
      } else {
        return false;
      }
      value = value * 16 + nibble;
    }
    digest[i] = static_cast<uint8_t>(value);
  }
  return true;
}

}  // namespace

const char* ScopeName(TokenScope scope) {
  switch (scope) {
    case TokenScope::kIngest:
      return "ingest";
    case TokenScope::kRead:
      return "read";
    case TokenScope::kAdmin:
      return "admin";
  }
  return "?";
}

Sha256 Sha256Of(absl::string_view text) {
  Sha256 digest;
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

std::string HexOf(const Sha256& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * digest.size());
  for (uint8_t byte : digest) {
    hex.push_back(kHex[byte >> 4]);
    hex.push_back(kHex[byte & 15]);
  }
  return hex;
}

bool Principal::Has(TokenScope scope) const {
  switch (scope) {
    case TokenScope::kIngest:
      return ingest;
    case TokenScope::kRead:
      return read;
    case TokenScope::kAdmin:
      return admin;
  }
  return false;
}

bool Principal::MayProduce(absl::string_view producer_id) const {
  if (producer_prefixes.empty() || producer_id.empty()) return true;
  for (const std::string& prefix : producer_prefixes) {
    if (absl::StartsWith(producer_id, prefix)) return true;
  }
  return false;
}

absl::StatusOr<TokenSet> TokenSet::Parse(absl::string_view text) {
  TokenSet set;
  absl::flat_hash_set<std::string> names;
  absl::flat_hash_set<std::string> digests;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) line = line.substr(0, hash);
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (words.empty()) continue;
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("token file line ", number, ": ", why));
    };
    if (words.size() < 3) return bad("expected NAME SCOPES sha256:DIGEST [OPTIONS]");
    auto principal = std::make_shared<Principal>();
    principal->name = std::string(words[0]);
    if (!ValidName(principal->name)) {
      return bad("the name must be 1-64 characters of [A-Za-z0-9._-]");
    }
    if (!names.insert(principal->name).second) {
      return bad(absl::StrCat("the name '", principal->name, "' is used twice"));
    }
    for (absl::string_view scope : absl::StrSplit(words[1], ',')) {
      if (scope == "ingest") {
        principal->ingest = true;
      } else if (scope == "read") {
        principal->read = true;
      } else if (scope == "admin") {
        principal->admin = true;
      } else {
        return bad(absl::StrCat("unknown scope '", scope, "' (scopes: ingest, read, admin)"));
      }
    }
    Entry entry;
    if (!ParseDigest(words[2], entry.digest)) {
      return bad("the digest must be sha256: and 64 hex digits (the SHA-256 of the token)");
    }
    if (!digests.insert(HexOf(entry.digest)).second) {
      return bad(absl::StrCat("token '", principal->name, "' has the digest of an earlier token"));
    }
    for (size_t i = 3; i < words.size(); ++i) {
      absl::string_view option = words[i];
      if (absl::ConsumePrefix(&option, "producers=")) {
        for (absl::string_view prefix : absl::StrSplit(option, ',')) {
          if (!ValidPrefix(prefix)) {
            return bad(absl::StrCat("producer prefix '", prefix,
                                    "': must be 1-128 characters of [A-Za-z0-9._:-]"));
          }
          principal->producer_prefixes.emplace_back(prefix);
        }
      } else if (absl::ConsumePrefix(&option, "rate=")) {
        if (!absl::SimpleAtoi(option, &principal->ingest_rate) || principal->ingest_rate < 1) {
          return bad(absl::StrCat("rate '", option, "': must be a whole number of events/s >= 1"));
        }
      } else {
        return bad(absl::StrCat("unknown option '", words[i], "' (options: producers=, rate=)"));
      }
    }
    entry.principal = principal;
    set.entries_.push_back(std::move(entry));
    set.principals_.push_back(std::move(principal));
  }
  return set;
}

std::shared_ptr<const Principal> TokenSet::Find(absl::string_view token) const {
  const Sha256 digest = Sha256Of(token);
  std::shared_ptr<const Principal> found;
  // Every entry is compared, in constant time, whatever matched before.
  for (const Entry& entry : entries_) {
    const bool equal = CRYPTO_memcmp(digest.data(), entry.digest.data(), digest.size()) == 0;
    if (equal) found = entry.principal;
  }
  return found;
}

}  // namespace hubstats
