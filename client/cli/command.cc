#include "command.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/channel.h"
#include "common/enum_names.h"
#include "core/day.h"
#include "core/size_class.h"
#include "hubstats/v1/error_details.pb.h"
#include "ingest.h"

namespace hubstats::cli {

const client::CommandLineSpec& CliOptions() {
  static const client::CommandLineSpec kSpec = [] {
    client::CommandLineSpec spec = {
        .value_options = {"target",      "from",        "to",        "timeout",     "boundaries",
                          "modality",    "n",           "by",        "granularity", "author",
                          "task",        "library",     "min-size",  "max-size",    "batch-size",
                          "batch-bytes", "producer-id", "retry-for", "format",      "min-version",
                          "rows",        "columns",     "out",       "chunk-size"},
        .switches = {"json", "no-fresh"}};
    spec.value_options.insert(client::SecurityValueOptions().begin(),
                              client::SecurityValueOptions().end());
    spec.switches.insert(client::SecuritySwitches().begin(), client::SecuritySwitches().end());
    return spec;
  }();
  return kSpec;
}

void UsageError(const std::string& message) {
  std::fprintf(stderr, "hubstats: %s\n(run hubstats --help for usage)\n", message.c_str());
  std::exit(2);
}

void Failure(const std::string& message) {
  std::fprintf(stderr, "hubstats: %s\n", message.c_str());
  std::exit(1);
}

void AllowOnly(const Options& options, std::set<std::string> allowed) {
  allowed.insert({"target", "timeout"});
  allowed.insert(client::SecurityValueOptions().begin(), client::SecurityValueOptions().end());
  for (const auto& [name, value] : options.line.values()) {
    if (!allowed.contains(name)) {
      UsageError(absl::StrCat("--", name, " does not apply to '", options.command, "'"));
    }
  }
}

void NoArguments(const Options& options) {
  if (!options.arguments.empty()) {
    UsageError(absl::StrCat("'", options.command, "' takes no arguments, got '",
                            options.arguments[0], "'"));
  }
}

std::string Option(const Options& options, const std::string& name, const std::string& fallback) {
  return options.line.Value(name, fallback);
}

int IntOption(const Options& options, const std::string& name, int fallback, int minimum) {
  absl::StatusOr<int64_t> value = options.line.Int(name, fallback, minimum);
  if (!value.ok()) UsageError(std::string(value.status().message()));
  if (*value > std::numeric_limits<int>::max()) {
    UsageError(absl::StrCat("--", name, " must be at most ", std::numeric_limits<int>::max()));
  }
  return static_cast<int>(*value);
}

int64_t SizeOption(const Options& options, const std::string& name) {
  absl::StatusOr<int64_t> count = ParseParameters(Option(options, name), absl::StrCat("--", name));
  if (!count.ok()) UsageError(std::string(count.status().message()));
  return *count;
}

int64_t BatchBytesOption(const Options& options) {
  absl::StatusOr<int64_t> value =
      options.line.Bytes("batch-bytes", kDefaultBatchBytes, 1 << 10, kMaxBatchBytes);
  if (!value.ok()) UsageError(std::string(value.status().message()));
  return *value;
}

absl::Duration RetryForOption(const Options& options, bool* given) {
  *given = options.line.Has("retry-for");
  absl::StatusOr<absl::Duration> value =
      options.line.Duration("retry-for", absl::Minutes(5), absl::ZeroDuration());
  if (!value.ok()) UsageError(std::string(value.status().message()));
  return *value;
}

client::ChannelSecurity SecurityOption(const Options& options) {
  absl::StatusOr<client::ChannelSecurity> security = client::ChannelSecurityFrom(options.line);
  if (!security.ok()) UsageError(std::string(security.status().message()));
  return *std::move(security);
}

std::string TargetOption(const Options& options) {
  const char* environment = std::getenv("HUBSTATS_TARGET");
  return Option(options, "target", environment ? environment : "localhost:50051");
}

v1::Modality ModalityOption(const Options& options) {
  const std::string name = Option(options, "modality");
  if (name.empty()) return v1::MODALITY_UNSPECIFIED;
  absl::StatusOr<v1::Modality> modality = client::ParseModality(name);
  if (!modality.ok()) UsageError(absl::StrCat("--modality: ", modality.status().message()));
  return *modality;
}

InputFile InputFileOption(const Options& options) {
  if (options.arguments.size() != 1) {
    UsageError(absl::StrCat("'", options.command, "' takes one FILE"));
  }
  absl::StatusOr<InputFormat> format =
      ChooseFormat(options.arguments[0], Option(options, "format"));
  if (!format.ok()) UsageError(std::string(format.status().message()));
  return {options.arguments[0], *format};
}

std::string RangeLabel(const Options& options) {
  const std::string from = Option(options, "from"), to = Option(options, "to");
  if (from.empty() && to.empty()) return "all time";
  return absl::StrCat(from.empty() ? "start" : from, "..", to.empty() ? "latest" : to);
}

std::string DescribeError(const grpc::Status& status) {
  std::string text =
      absl::StrCat(client::StatusCodeName(status.error_code()), ": ", status.error_message());
  v1::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      v1::BadRequest bad_request;
      if (!absl::EndsWith(any.type_url(), "google.rpc.BadRequest") ||
          !bad_request.ParseFromString(any.value())) {
        continue;
      }
      for (const auto& violation : bad_request.field_violations()) {
        const std::string line = absl::StrCat(violation.field(), ": ", violation.description());
        if (line != status.error_message()) absl::StrAppend(&text, "\n  ", line);
      }
    }
  }
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      absl::StrAppend(&text, "\n  is the server running and --target right?");
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      absl::StrAppend(&text, "\n  the server did not answer in time; try a larger --timeout");
      break;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      absl::StrAppend(&text,
                      "\n  the token comes from $HUBSTATS_TOKEN, $HUBSTATS_TOKEN_FILE or "
                      "--token-file");
      break;
    default:
      break;
  }
  return text;
}

void PrintLineErrors(const std::vector<LineError>& errors) {
  for (const LineError& error : errors) {
    std::printf("  line %d: %s\n", error.line, error.reason.c_str());
  }
}

Connection::Connection(const Options& options)
    : options_(options),
      target_(TargetOption(options)),
      timeout_seconds_(IntOption(options, "timeout", 30, 1)),
      query_(v1::QueryService::NewStub(client::NewChannel(target_, SecurityOption(options)))) {}

std::unique_ptr<grpc::ClientContext> Connection::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_seconds_));
  return context;
}

void Connection::Check(const grpc::Status& status, absl::string_view what) const {
  if (!status.ok()) {
    Failure(absl::StrCat(what, " on ", target_, " failed: ", DescribeError(status)));
  }
}

bool Connection::FillRange(v1::DateRange* range) const {
  auto set = [&](const char* option, v1::Date* (v1::DateRange::*field)()) {
    const std::string text = Option(options_, option);
    if (text.empty()) return false;
    absl::StatusOr<Day> day = Day::Parse(text, absl::StrCat("--", option));
    if (!day.ok()) UsageError(std::string(day.status().message()));
    const absl::CivilDay civil = day->civil();
    v1::Date* date = (range->*field)();
    date->set_year(static_cast<int32_t>(civil.year()));
    date->set_month(civil.month());
    date->set_day(civil.day());
    return true;
  };
  const bool has_start = set("from", &v1::DateRange::mutable_start);
  const bool has_end = set("to", &v1::DateRange::mutable_end);
  return has_start || has_end;
}

}  // namespace hubstats::cli
