// Model size classes over parameter counts.
//
// Downloads are kept per fine bucket (between neighbouring points of the 1-2-5 grid), so query
// boundaries on the grid are answered by summing fine buckets. A boundary off the grid (7B, 13B,
// 70B) falls inside one fine bucket: the downloads of that bucket's models below it are counted
// model by model (the read model knows each model's parameter count) and split the bucket.
#ifndef HUBSTATS_SERVICE_CORE_SIZE_CLASS_H_
#define HUBSTATS_SERVICE_CORE_SIZE_CLASS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace hubstats {

// 1M, 2M, 5M, 10M, ..., 500B, 1T.
inline constexpr std::array<int64_t, 19> kSizeGrid = {
    1'000'000,       2'000'000,       5'000'000,       10'000'000,        20'000'000,
    50'000'000,      100'000'000,     200'000'000,     500'000'000,       1'000'000'000,
    2'000'000'000,   5'000'000'000,   10'000'000'000,  20'000'000'000,    50'000'000'000,
    100'000'000'000, 200'000'000'000, 500'000'000'000, 1'000'000'000'000,
};
// Fine bucket i covers [grid[i-1], grid[i]) with grid[-1] = 0 and grid[19] = infinity.
inline constexpr int kFineBucketCount = static_cast<int>(kSizeGrid.size()) + 1;
// The report's classes: <200M, 200M-500M, 500M-1B, >=1B.
inline constexpr std::array<int64_t, 3> kDefaultBoundaries = {200'000'000, 500'000'000,
                                                              1'000'000'000};
// Largest num_parameters a catalog record may carry.
inline constexpr int64_t kMaxParameters = 1'000'000'000'000'000;

// The fine bucket of a known parameter count (> 0).
int FineBucketOf(int64_t num_parameters);
// Lower and upper (exclusive; nullopt = none) bound of a fine bucket.
int64_t FineBucketLower(int bucket);
std::optional<int64_t> FineBucketUpper(int bucket);

// "1M", "200M", "1B", "1.5B", "1T", "750K", "999"; exact for every value.
std::string FormatParameters(int64_t count);
// Accepts plain integers ("200000000"), suffixed values ("200M", "1B", "1T", "1.5B", "500K";
// also "G" for billions, case-insensitive) and scientific notation ("2e8").
// INVALID_ARGUMENT naming `field` when it is not a non-negative whole number of parameters.
absl::StatusOr<int64_t> ParseParameters(absl::string_view text, absl::string_view field);

// A query's size class: [lower, upper).
struct SizeClass {
  int64_t lower = 0;
  std::optional<int64_t> upper;  // nullopt: open-ended.
  std::string label;             // "<200M", "200M-500M", "7B-13B", ">=1B".
};

// Whether `count` is a point of kSizeGrid (a fine bucket starts there).
bool OnSizeGrid(int64_t count);

// At most this many boundaries per query (each off the grid costs a walk over its bucket).
inline constexpr size_t kMaxBoundaries = 64;

// OK when `boundaries` has 1..kMaxBoundaries values, strictly increasing, each in
// 1..kMaxParameters; otherwise INVALID_ARGUMENT naming "<field>[i]" (or `field` for the count).
absl::Status ValidateBoundaries(absl::Span<const int64_t> boundaries,
                                absl::string_view field = "boundaries");

// The classes for valid boundaries b1 < ... < bk: [0,b1), [b1,b2), ..., [bk, inf).
std::vector<SizeClass> SizeClassesFor(absl::Span<const int64_t> boundaries);

// Label of a fine bucket: "<1M", "100M-200M", ">=1T".
std::string FineBucketLabel(int bucket);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_CORE_SIZE_CLASS_H_
