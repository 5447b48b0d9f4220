#include "core/size_class.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/field_error.h"

namespace hubstats {
namespace {

struct Suffix {
  char letter;
  int64_t scale;
};
constexpr std::array<Suffix, 4> kSuffixes = {
    {{'T', 1'000'000'000'000}, {'B', 1'000'000'000}, {'M', 1'000'000}, {'K', 1'000}}};

int GridIndexOf(int64_t value) {
  auto it = std::lower_bound(kSizeGrid.begin(), kSizeGrid.end(), value);
  return (it != kSizeGrid.end() && *it == value) ? static_cast<int>(it - kSizeGrid.begin()) : -1;
}

}  // namespace

int FineBucketOf(int64_t num_parameters) {
  // upper_bound: a count equal to a grid point belongs to the bucket that starts there.
  return static_cast<int>(std::upper_bound(kSizeGrid.begin(), kSizeGrid.end(), num_parameters) -
                          kSizeGrid.begin());
}

int64_t FineBucketLower(int bucket) { return bucket == 0 ? 0 : kSizeGrid[bucket - 1]; }

std::optional<int64_t> FineBucketUpper(int bucket) {
  if (bucket >= static_cast<int>(kSizeGrid.size())) return std::nullopt;
  return kSizeGrid[bucket];
}

std::string FormatParameters(int64_t count) {
  for (const Suffix& suffix : kSuffixes) {
    if (count < suffix.scale) continue;
    const int64_t whole = count / suffix.scale, rest = count % suffix.scale;
    if (rest == 0) return absl::StrCat(whole, std::string(1, suffix.letter));
    // Print the fraction with as many digits as needed, no trailing zeros.
    std::string fraction = std::to_string(suffix.scale + rest).substr(1);
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    return absl::StrCat(whole, ".", fraction, std::string(1, suffix.letter));
  }
  return absl::StrCat(count);
}

absl::StatusOr<int64_t> ParseParameters(absl::string_view text, absl::string_view field) {
  const std::string original(text);
  text = absl::StripAsciiWhitespace(text);
  auto bad = [&] {
    return InvalidFieldError(field, absl::StrCat("'", original,
                                                 "' is not a parameter count (e.g. 200M, 1B, "
                                                 "1T, 500000000)"));
  };
  if (text.empty()) return bad();
  int64_t scale = 1;
  const char last = absl::ascii_toupper(text.back());
  for (const Suffix& suffix : kSuffixes) {
    if (last == suffix.letter || (last == 'G' && suffix.letter == 'B')) {
      scale = suffix.scale;
      text.remove_suffix(1);
      break;
    }
  }
  int64_t whole = 0;
  if (absl::SimpleAtoi(text, &whole)) {
    if (whole < 0 || whole > kMaxParameters / scale) return bad();
    return whole * scale;
  }
  // Decimal or scientific forms ("1.5B", "2e8"): accept only when the result is a whole number.
  double value = 0;
  if (!absl::SimpleAtod(text, &value) || !std::isfinite(value) || value < 0) return bad();
  const double scaled = value * static_cast<double>(scale);
  if (scaled > static_cast<double>(kMaxParameters) || scaled != std::floor(scaled)) return bad();
  return static_cast<int64_t>(scaled);
}

bool OnSizeGrid(int64_t count) { return GridIndexOf(count) >= 0; }

absl::Status ValidateBoundaries(absl::Span<const int64_t> boundaries, absl::string_view field) {
  if (boundaries.empty()) return InvalidFieldError(field, "needs at least one boundary");
  if (boundaries.size() > kMaxBoundaries) {
    return InvalidFieldError(
        field, absl::StrCat("at most ", kMaxBoundaries, " boundaries, got ", boundaries.size()));
  }
  for (size_t i = 0; i < boundaries.size(); ++i) {
    const std::string item = absl::StrCat(field, "[", i, "]");
    if (boundaries[i] < 1 || boundaries[i] > kMaxParameters) {
      return InvalidFieldError(
          item, absl::StrCat(boundaries[i], " is not a parameter count from 1 to 10^15"));
    }
    if (i > 0 && boundaries[i] <= boundaries[i - 1]) {
      return InvalidFieldError(item, "boundaries must be strictly increasing");
    }
  }
  return absl::OkStatus();
}

std::vector<SizeClass> SizeClassesFor(absl::Span<const int64_t> boundaries) {
  std::vector<SizeClass> classes;
  int64_t lower = 0;
  for (int64_t boundary : boundaries) {
    SizeClass size_class;
    size_class.lower = lower;
    size_class.upper = boundary;
    size_class.label = lower == 0
                           ? absl::StrCat("<", FormatParameters(boundary))
                           : absl::StrCat(FormatParameters(lower), "-", FormatParameters(boundary));
    classes.push_back(std::move(size_class));
    lower = boundary;
  }
  SizeClass last;
  last.lower = lower;
  last.label = absl::StrCat(">=", FormatParameters(lower));
  classes.push_back(std::move(last));
  return classes;
}

std::string FineBucketLabel(int bucket) {
  const std::optional<int64_t> upper = FineBucketUpper(bucket);
  if (bucket == 0) return absl::StrCat("<", FormatParameters(*upper));
  if (!upper) return absl::StrCat(">=", FormatParameters(FineBucketLower(bucket)));
  return absl::StrCat(FormatParameters(FineBucketLower(bucket)), "-", FormatParameters(*upper));
}

}  // namespace hubstats
