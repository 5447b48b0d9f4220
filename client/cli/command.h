// What the commands of the CLI share: the parsed command line, usage errors and failures, the
// server's address and the connection queries use. Each command family lives in its own file
// (ingest_command.cc, catalog_command.cc, query_commands.cc, crosstab_command.cc,
// export_command.cc); main.cc dispatches.
//
// The helpers that report errors end the process (exit 2 for bad usage, 1 for a failure):
// the CLI is single-threaded and a command has nothing to clean up.
#ifndef HUBSTATS_CLIENT_CLI_COMMAND_H_
#define HUBSTATS_CLIENT_CLI_COMMAND_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/channel.h"
#include "common/command_line.h"
#include "hubstats/v1/hubstats.grpc.pb.h"
#include "input.h"

namespace hubstats::cli {

struct Options {
  std::string command;
  std::vector<std::string> arguments;
  client::CommandLine line;  // The options' values.
  bool json = false;
};

// Every option the CLI knows; AllowOnly narrows it per command.
const client::CommandLineSpec& CliOptions();

// Prints "hubstats: <message>" and a pointer to --help; exits 2.
[[noreturn]] void UsageError(const std::string& message);
// Prints "hubstats: <message>"; exits 1.
[[noreturn]] void Failure(const std::string& message);

// A usage error for any option given that the command does not take (besides --target,
// --timeout, --json and the security options).
void AllowOnly(const Options& options, std::set<std::string> allowed);
// A usage error unless the command got no arguments.
void NoArguments(const Options& options);

std::string Option(const Options& options, const std::string& name,
                   const std::string& fallback = "");
// The option as an int >= minimum; a usage error otherwise.
int IntOption(const Options& options, const std::string& name, int fallback, int minimum);
// --batch-bytes, checked against the limits of ingest.h.
int64_t BatchBytesOption(const Options& options);
// A parameter-count option (--min-size 7B); a usage error naming the option otherwise.
int64_t SizeOption(const Options& options, const std::string& name);
// --retry-for [5m]; `given` tells whether it was on the command line.
absl::Duration RetryForOption(const Options& options, bool* given);
// --target, else $HUBSTATS_TARGET, else localhost:50051.
std::string TargetOption(const Options& options);
// TLS and the token (--tls, --ca-file, ..., --token-file, or their variables; see
// common/channel.h); a usage error for an unreadable file.
client::ChannelSecurity SecurityOption(const Options& options);
// --modality (MODALITY_UNSPECIFIED when absent); a usage error listing the names otherwise.
v1::Modality ModalityOption(const Options& options);
// The input file (the command's one argument) and its format (--format or its extension).
struct InputFile {
  std::string path;
  InputFormat format;
};
InputFile InputFileOption(const Options& options);

// "all time", "2024-09-01..2024-09-30", "2024-09-01..latest", "start..2024-09-30".
std::string RangeLabel(const Options& options);

// The status code, the server's message and any field violations it sent that the message
// does not already say, with a hint for UNAVAILABLE and DEADLINE_EXCEEDED.
std::string DescribeError(const grpc::Status& status);

// Prints "  line N: reason" for each error.
void PrintLineErrors(const std::vector<LineError>& errors);

// The connection of a query command: the target, the stubs and the query deadline (--timeout).
class Connection {
 public:
  explicit Connection(const Options& options);

  // A context with the query deadline.
  std::unique_ptr<grpc::ClientContext> Context() const;
  // A failure (exit 1) naming `what` and the target unless `status` is OK.
  void Check(const grpc::Status& status, absl::string_view what) const;
  // Sets `range` from --from/--to (a usage error for a malformed date); returns false, leaving
  // it empty, when neither is given.
  bool FillRange(v1::DateRange* range) const;

  v1::QueryService::Stub& query() { return *query_; }
  const std::string& target() const { return target_; }

 private:
  const Options& options_;
  std::string target_;
  int timeout_seconds_ = 30;
  std::unique_ptr<v1::QueryService::Stub> query_;
};

// The commands, one per family file.
int RunIngest(const Options& options);
int RunCatalog(const Options& options);
int RunModality(const Options& options);
int RunSizes(const Options& options);
int RunTop(const Options& options);
int RunBreakdown(const Options& options);
int RunTotals(const Options& options);
int RunModel(const Options& options);
int RunTrend(const Options& options);
int RunCrossTab(const Options& options);
int RunExport(const Options& options);

}  // namespace hubstats::cli

#endif  // HUBSTATS_CLIENT_CLI_COMMAND_H_
