#include "command_line.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace hubstats::cli {

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
      if (inline_value)
        return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
      line.switches_.insert(name);
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
  return switches_.contains(name) || values_.contains(name);
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

}  // namespace hubstats::cli
