#include "common/command_line.h"

#include <cmath>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace hubstats::client {

absl::StatusOr<CommandLine> CommandLine::Parse(int argc, const char* const* argv,
                                               const CommandLineSpec& spec) {
  CommandLine line;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      line.help_ = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--")) {
      line.words_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    const size_t equals = name.find('=');
    const bool inline_value = equals != std::string::npos;
    std::string value = inline_value ? name.substr(equals + 1) : "";
    if (inline_value) name.resize(equals);
    if (spec.switches.contains(name)) {
      const std::optional<bool> on = inline_value ? ParseBool(value) : true;
      if (!on.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " is a switch: --", name,
                                                       " or --", name, "=true|false, got '", value,
                                                       "'"));
      }
      line.switches_[name] = *on;
      continue;
    }
    if (!spec.value_options.contains(name)) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option --", name));
    }
    if (!inline_value) {
      // A following "--x" is an option, not this one's value: "--target --json" is a mistake.
      if (i + 1 >= argc || absl::StartsWith(argv[i + 1], "--")) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      }
      value = argv[++i];
    }
    line.values_[name] = value;
  }
  return line;
}

bool CommandLine::Has(const std::string& name) const {
  auto it = switches_.find(name);
  return (it != switches_.end() && it->second) || values_.contains(name);
}

std::optional<bool> CommandLine::Switch(const std::string& name) const {
  auto it = switches_.find(name);
  if (it == switches_.end()) return std::nullopt;
  return it->second;
}

std::optional<bool> ParseBool(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "off" || lower == "0") return false;
  return std::nullopt;
}

std::string CommandLine::Value(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

absl::StatusOr<int64_t> CommandLine::Int(const std::string& name, int64_t fallback,
                                         int64_t minimum) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(it->second, &value) || value < minimum) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, " must be a whole number >= ", minimum, ", got '", it->second, "'"));
  }
  return value;
}

absl::StatusOr<double> CommandLine::Double(const std::string& name, double fallback,
                                           double minimum) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  double value = 0;
  if (!absl::SimpleAtod(it->second, &value) || !std::isfinite(value) || value < minimum) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be a number >= ", minimum, ", got '", it->second, "'"));
  }
  return value;
}

absl::StatusOr<absl::Duration> CommandLine::Duration(const std::string& name,
                                                     absl::Duration fallback,
                                                     absl::Duration minimum) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  absl::StatusOr<absl::Duration> value = ParseDuration(it->second);
  if (!value.ok() || *value < minimum) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be a duration of at least ", absl::FormatDuration(minimum),
                     " (e.g. 250ms, 30s, 5m, 1h30m, or seconds), got '", it->second, "'"));
  }
  return value;
}

absl::StatusOr<int64_t> CommandLine::Bytes(const std::string& name, int64_t fallback,
                                           int64_t minimum, int64_t maximum) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  absl::StatusOr<int64_t> value = ParseByteSize(it->second);
  if (!value.ok() || *value < minimum || *value > maximum) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, " must be a size from ",
                                                   HumanBytes(minimum), " to ", HumanBytes(maximum),
                                                   " (e.g. 4MiB, 512KiB), got '", it->second, "'"));
  }
  return value;
}

absl::StatusOr<int64_t> ParseByteSize(absl::string_view text) {
  absl::string_view number = absl::StripAsciiWhitespace(text);
  int64_t scale = 1;
  for (const auto& [suffix, factor] : {std::pair<absl::string_view, int64_t>{"KiB", 1 << 10},
                                       {"MiB", 1 << 20},
                                       {"K", 1 << 10},
                                       {"M", 1 << 20},
                                       {"B", 1}}) {
    if (absl::ConsumeSuffix(&number, suffix)) {
      scale = factor;
      break;
    }
  }
  int64_t value = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(number), &value) || value < 0 ||
      value > (int64_t{1} << 40) / scale) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a size in bytes (e.g. 4MiB, 512KiB, 1048576)"));
  }
  return value * scale;
}

std::string HumanBytes(int64_t bytes) {
  if (bytes < (1 << 10)) return absl::StrCat(bytes, " bytes");
  const bool mebibytes = bytes >= (1 << 20);
  const double value = static_cast<double>(bytes) / (mebibytes ? (1 << 20) : (1 << 10));
  return absl::StrCat(absl::StrFormat("%.4g", value), mebibytes ? " MiB" : " KiB");
}

absl::StatusOr<absl::Duration> ParseDuration(absl::string_view text) {
  absl::Duration duration;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(text, &seconds) && seconds >= 0) return absl::Seconds(seconds);
  if (absl::ParseDuration(text, &duration) && duration >= absl::ZeroDuration() &&
      duration != absl::InfiniteDuration()) {
    return duration;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", text, "' is not a duration (e.g. 250ms, 30s, 5m, 1h, or seconds)"));
}

std::string HumanDuration(absl::Duration duration) {
  if (duration < absl::ZeroDuration()) return absl::StrCat("-", HumanDuration(-duration));
  if (duration == absl::InfiniteDuration()) return "forever";
  if (duration < absl::Seconds(1)) {
    return absl::StrCat(absl::ToInt64Milliseconds(duration + absl::Microseconds(500)), "ms");
  }
  if (duration < absl::Seconds(10)) {
    const int64_t tenths = absl::ToInt64Milliseconds(duration + absl::Milliseconds(50)) / 100;
    return tenths % 10 == 0 ? absl::StrCat(tenths / 10, "s")
                            : absl::StrCat(tenths / 10, ".", tenths % 10, "s");
  }
  const int64_t seconds = absl::ToInt64Seconds(duration + absl::Milliseconds(500));
  if (seconds < 60) return absl::StrCat(seconds, "s");
  const int64_t hours = seconds / 3600, minutes = seconds % 3600 / 60, rest = seconds % 60;
  std::string text = hours > 0 ? absl::StrCat(hours, "h") : "";
  if (minutes > 0 || (hours == 0)) absl::StrAppend(&text, minutes, "m");
  // Seconds matter below ten minutes; above, minutes are precise enough.
  if (rest > 0 && hours == 0 && minutes < 10) absl::StrAppend(&text, rest, "s");
  return text;
}

}  // namespace hubstats::client
