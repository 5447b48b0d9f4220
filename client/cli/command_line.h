// Command lines of the client tools (hubstats, hubstats-bench): words and --options.
//
// A command line is words (the command and its arguments) and options, in any order:
// `--name VALUE`, `--name=VALUE` for value options, `--name` for switches, `--help` or `-h`.
// Anything else starting with "--" is an error, so a mistyped option never passes silently.
//
// Thread-safety: a parsed CommandLine is immutable; const methods may be called from any thread.
#ifndef HUBSTATS_CLIENT_CLI_COMMAND_LINE_H_
#define HUBSTATS_CLIENT_CLI_COMMAND_LINE_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace hubstats::cli {

struct CommandLineSpec {
  std::set<std::string> value_options;  // Names (without "--") that take a value.
  std::set<std::string> switches;       // Names that take none.
};

class CommandLine {
 public:
  // INVALID_ARGUMENT, naming the option, for an unknown option, a value option without a value,
  // or a value given to a switch. A later occurrence of an option replaces an earlier one.
  static absl::StatusOr<CommandLine> Parse(int argc, const char* const* argv,
                                           const CommandLineSpec& spec);

  bool help() const { return help_; }
  // The words, in order: the command first.
  const std::vector<std::string>& words() const { return words_; }
  // Value options given, by name.
  const std::map<std::string, std::string>& values() const { return values_; }
  bool Has(const std::string& name) const;

  std::string Value(const std::string& name, const std::string& fallback = "") const;
  // INVALID_ARGUMENT naming the option when the value is not a whole number >= minimum.
  absl::StatusOr<int64_t> Int(const std::string& name, int64_t fallback, int64_t minimum) const;
  // INVALID_ARGUMENT naming the option when the value is not a number >= minimum.
  absl::StatusOr<double> Double(const std::string& name, double fallback, double minimum) const;
  // INVALID_ARGUMENT naming the option unless the value is a duration (see ParseDuration)
  // >= minimum.
  absl::StatusOr<absl::Duration> Duration(const std::string& name, absl::Duration fallback,
                                          absl::Duration minimum) const;

 private:
  bool help_ = false;
  std::vector<std::string> words_;
  std::map<std::string, std::string> values_;
  std::set<std::string> switches_;
};

// "250ms", "30s", "5m", "1h30m", or plain seconds ("300"); not negative. INVALID_ARGUMENT
// otherwise.
absl::StatusOr<absl::Duration> ParseDuration(absl::string_view text);

}  // namespace hubstats::cli

#endif  // HUBSTATS_CLIENT_CLI_COMMAND_LINE_H_
