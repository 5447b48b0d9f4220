// Test helpers over the Store interface (test-only; not part of the store's contract): events
// to commit windows, one-batch apply, one-producer checks, and the facts of a whole store.
#ifndef HUBSTATS_SERVICE_STORE_STORE_TEST_UTIL_H_
#define HUBSTATS_SERVICE_STORE_STORE_TEST_UTIL_H_

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "store/store.h"

namespace hubstats::store_testing {

// An event as tests write it.
struct TestEvent {
  std::string model;
  std::string day;  // YYYY-MM-DD
  int64_t count = 1;
  std::string revision;
  bool all_time_only = false;  // A late event counted into all time only (no day).
};

// "org<a>/m<m>" with a < authors and m < models, a drawn before m: one draw per statement, so
// every compiler builds the same data (the operands of + and a call's arguments are evaluated
// in an unspecified order).
std::string RandomModelId(std::mt19937_64& random, int authors, int models);

// The commit window of `events`: merged per shard and model, every model indexed through
// `store` (AssignIndexes), with `identity` (if any) as each shard's only contribution.
absl::StatusOr<std::vector<WindowShard>> WindowOf(Store& store,
                                                  const std::vector<TestEvent>& events,
                                                  const BatchIdentity* identity = nullptr);

struct ApplyResult {
  std::vector<std::string> overflowing_authors;
  int shards_skipped = 0;  // Shards that had applied the batch already.
};
// Applies `window` (see WindowOf) and sums up the shards' results.
absl::StatusOr<ApplyResult> Apply(Store& store, absl::Span<const WindowShard> window);
absl::StatusOr<ApplyResult> ApplyEvents(Store& store, const std::vector<TestEvent>& events,
                                        const BatchIdentity* identity = nullptr);

absl::StatusOr<ProducerVerdict> CheckProducer(Store& store, const BatchIdentity& identity);
absl::Status CommitProducer(Store& store, const BatchIdentity& identity);

// Everything a store knows of its models, from its shards' snapshots.
struct ModelFacts {
  uint32_t shard = 0;
  uint32_t index = 0;
  std::optional<CatalogRecord> record;
  int64_t all_time = 0;
  std::map<Day, int64_t> days;
  std::map<Day, int64_t> months;  // Folded months (first day) -> downloads.
  bool operator==(const ModelFacts&) const = default;
};
struct Facts {
  std::map<std::string, ModelFacts> models;  // By model id.
  VersionVector versions;
  std::set<std::pair<uint32_t, Day>> folded;  // (shard, month) of every folded month.
  bool operator==(const Facts&) const = default;
};
absl::StatusOr<Facts> LoadFacts(Store& store);

// `facts` with `record` applied (its records, then its downloads), as a reader following the
// log does. Returns false (with a failure recorded) when the record names an unknown index.
bool ApplyRecord(Facts& facts, uint32_t shard, const ChangeRecord& record);

}  // namespace hubstats::store_testing

#endif  // HUBSTATS_SERVICE_STORE_STORE_TEST_UTIL_H_
