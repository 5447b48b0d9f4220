// Command lines of the client tools (hubstats, hubstats-bench): words and --options.
//
// A command line is words (the command and its arguments) and options, in any order:
// `--name VALUE`, `--name=VALUE` for value options, `--name` (or `--name=true|false`, also
// yes/no, on/off, 1/0) for switches, `--help` or `-h`. It is the one parser of the project's
// command lines: the client tools and hubstats-server (service/server_flags.h) use it.
// Anything else starting with "--" is an error, so a mistyped option never passes silently.
//
// Thread-safety: a parsed CommandLine is immutable; const methods may be called from any thread.
#ifndef HUBSTATS_CLIENT_COMMON_COMMAND_LINE_H_
#define HUBSTATS_CLIENT_COMMON_COMMAND_LINE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace hubstats::client {

struct CommandLineSpec {
  std::set<std::string> value_options;  // Names (without "--") that take a value.
  std::set<std::string> switches;       // Names that take none.
};

class CommandLine {
 public:
  // INVALID_ARGUMENT, naming the option, for an unknown option, a value option without a value,
  // or a switch given a value other than true or false. A later occurrence of an option
  // replaces an earlier one.
  static absl::StatusOr<CommandLine> Parse(int argc, const char* const* argv,
                                           const CommandLineSpec& spec);

  bool help() const { return help_; }
  // The words, in order: the command first.
  const std::vector<std::string>& words() const { return words_; }
  // Value options given, by name.
  const std::map<std::string, std::string>& values() const { return values_; }
  // A value option given, or a switch given and not turned off (`--json=false` is not had).
  bool Has(const std::string& name) const;
  // A switch as given: nullopt when absent, false for `--name=false`.
  std::optional<bool> Switch(const std::string& name) const;

  std::string Value(const std::string& name, const std::string& fallback = "") const;
  // INVALID_ARGUMENT naming the option when the value is not a whole number >= minimum.
  absl::StatusOr<int64_t> Int(const std::string& name, int64_t fallback, int64_t minimum) const;
  // INVALID_ARGUMENT naming the option when the value is not a number >= minimum.
  absl::StatusOr<double> Double(const std::string& name, double fallback, double minimum) const;
  // INVALID_ARGUMENT naming the option unless the value is a duration (see ParseDuration)
  // >= minimum.
  absl::StatusOr<absl::Duration> Duration(const std::string& name, absl::Duration fallback,
                                          absl::Duration minimum) const;
  // INVALID_ARGUMENT naming the option unless the value is a byte size (see ParseByteSize) in
  // [minimum, maximum].
  absl::StatusOr<int64_t> Bytes(const std::string& name, int64_t fallback, int64_t minimum,
                                int64_t maximum) const;

 private:
  bool help_ = false;
  std::vector<std::string> words_;
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> switches_;
};

// "true", "yes", "on", "1" and "false", "no", "off", "0", in any case; nullopt otherwise.
std::optional<bool> ParseBool(absl::string_view text);

// "250ms", "30s", "5m", "1h30m", or plain seconds ("300"); not negative. INVALID_ARGUMENT
// otherwise.
absl::StatusOr<absl::Duration> ParseDuration(absl::string_view text);
// "4MiB", "512KiB", "4M" (M and K are binary too), "1048576" (bytes); INVALID_ARGUMENT
// otherwise.
absl::StatusOr<int64_t> ParseByteSize(absl::string_view text);
// "4 MiB", "512 KiB", "1.5 MiB", "900 bytes": for messages.
std::string HumanBytes(int64_t bytes);
// A duration as people read it, in the forms ParseDuration takes: "850ms", "1.2s", "42s",
// "5m", "5m30s", "1h30m" (rounded to what the unit shows).
std::string HumanDuration(absl::Duration duration);

}  // namespace hubstats::client

#endif  // HUBSTATS_CLIENT_COMMON_COMMAND_LINE_H_
