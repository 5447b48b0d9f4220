// The flags of hubstats-server: their defaults and help, read from HUBSTATS_<NAME> environment
// variables (dashes as underscores) and then from the command line, which wins. The command
// line is parsed by client/common's CommandLine, the project's one parser: `--name VALUE`,
// `--name=VALUE`, switches as `--name` or `--name=true|false`.
//
// Thread-safety: a parsed ServerFlags is immutable; const methods may be called from any thread.
#ifndef HUBSTATS_SERVICE_SERVER_FLAGS_H_
#define HUBSTATS_SERVICE_SERVER_FLAGS_H_

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace hubstats {

struct ServerFlag {
  std::string name;
  std::string value;  // The default, then the environment's, then the command line's.
  std::string help;
  bool is_switch = false;  // `--name` alone means true; `--name=false` turns it off.
};

class ServerFlags {
 public:
  // Returns the variable's value, or nullptr when it is not set (std::getenv's contract).
  using Getenv = std::function<const char*(const char*)>;

  static constexpr char kUsage[] =
      "usage: hubstats-server [--store memory|redis] [--redis URL] [flags]";

  // Every flag the server has, with its default value.
  static std::map<std::string, ServerFlag> Defaults();

  // INVALID_ARGUMENT naming the flag for an unknown flag, a flag without its value, a switch
  // given something other than true or false, or an argument that is not a flag.
  static absl::StatusOr<ServerFlags> Parse(int argc, const char* const* argv,
                                           const Getenv& getenv = std::getenv);

  // --help or -h was given.
  bool help() const { return help_; }
  // What --help prints: the usage line, then every flag with its help and current value.
  std::string HelpText() const;

  // The flag's value; `name` must be one of Defaults().
  const std::string& Value(const std::string& name) const;
  const std::string& Default(const std::string& name) const;
  // INVALID_ARGUMENT naming the flag unless its value is a whole number >= minimum.
  absl::StatusOr<int> Int(const std::string& name, int minimum) const;
  // INVALID_ARGUMENT naming the flag unless its value is true or false (yes/no, on/off, 1/0;
  // empty is false).
  absl::StatusOr<bool> Bool(const std::string& name) const;

 private:
  std::map<std::string, ServerFlag> flags_;
  std::map<std::string, ServerFlag> defaults_;
  bool help_ = false;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_SERVER_FLAGS_H_
