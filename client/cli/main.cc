// hubstats: command-line client for a hubstats server.
//
// Usage: hubstats [options] COMMAND [arguments]   (options may also follow the command)
// Run `hubstats --help` for the commands and options.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "channel.h"
#include "command_line.h"
#include "core/catalog.h"
#include "core/day.h"
#include "core/size_class.h"
#include "hubstats/v1/error_details.pb.h"
#include "hubstats/v1/hubstats.grpc.pb.h"
#include "ingest.h"
#include "input.h"
#include "output.h"

namespace hubstats::cli {
namespace {

constexpr char kHelp[] = R"(hubstats: command-line client for a hubstats server

usage: hubstats [options] COMMAND [arguments]      (options may come before or after COMMAND)

commands:
  ingest FILE.jsonl         stream download events (one JSON object per line:
                            {"model_id": ..., "timestamp": RFC 3339 or Unix seconds,
                             "count": N, "revision": ...}); bad lines are reported, the rest
                            count exactly once, through server restarts, failover and Redis
                            outages
  catalog FILE.jsonl|.csv   upsert catalog records (model_id, pipeline_tag, modality,
                            num_parameters, architecture, library_name)
  modality                  download share per modality
  sizes                     downloads per model-size class
  top                       top-N models or authors
  breakdown                 downloads per task, architecture or library
  totals                    total downloads, models and authors with downloads, catalog size
  model ID                  one model: record, downloads, rank, revisions, days

options:
  --target HOST:PORT        server address [$HUBSTATS_TARGET or localhost:50051]; ingest
                            takes a list A,B,... and fails over between them
  --from YYYY-MM-DD         first day of the range (inclusive, UTC)
  --to YYYY-MM-DD           last day of the range (inclusive, UTC)
  --json                    print JSON instead of tables
  --timeout SECONDS         deadline of each query [30]
  --boundaries LIST         sizes: class boundaries on the 1-2-5 grid [200M,500M,1B]
  --modality M              sizes, top, breakdown: only this modality (nlp, computer_vision, ...)
  --n N                     top: how many [50]
  --by model|author         top: rank models or authors [model]
  --by task|architecture|library    breakdown: the dimension (required)
  --batch-size N            ingest, catalog: items per request [1000]
  --producer-id ID          ingest: exactly-once identity; give the same ID (and file and
                            --batch-size) to re-run a job safely [a new ID per run]
  --retry-for DURATION      ingest, catalog: keep retrying this long without progress [5m]
  --help                    this text

exit status: 0 done (ingest/catalog: even when some lines were rejected; see the summary),
             1 the server or the file failed, 2 bad usage.
)";

struct Options {
  std::string command;
  std::vector<std::string> arguments;
  CommandLine line;  // The options' values.
  bool json = false;
};

[[noreturn]] void UsageError(const std::string& message) {
  std::fprintf(stderr, "hubstats: %s\n(run hubstats --help for usage)\n", message.c_str());
  std::exit(2);
}

[[noreturn]] void Failure(const std::string& message) {
  std::fprintf(stderr, "hubstats: %s\n", message.c_str());
  std::exit(1);
}

Options ParseArguments(int argc, char** argv) {
  static const CommandLineSpec kSpec = {
      .value_options = {"target", "from", "to", "timeout", "boundaries", "modality", "n", "by",
                        "batch-size", "producer-id", "retry-for"},
      .switches = {"json"}};
  absl::StatusOr<CommandLine> line = CommandLine::Parse(argc, argv, kSpec);
  if (!line.ok()) UsageError(std::string(line.status().message()));
  if (line->help()) {
    std::fputs(kHelp, stdout);
    std::exit(0);
  }
  if (line->words().empty()) UsageError("no command given");
  Options options;
  options.command = line->words().front();
  options.arguments.assign(line->words().begin() + 1, line->words().end());
  options.json = line->Has("json");
  options.line = *std::move(line);
  return options;
}

// Checks that only options the command understands were given.
void AllowOnly(const Options& options, std::set<std::string> allowed) {
  allowed.insert({"target", "timeout"});
  for (const auto& [name, value] : options.line.values()) {
    if (!allowed.contains(name)) {
      UsageError(absl::StrCat("--", name, " does not apply to '", options.command, "'"));
    }
  }
}

std::string Option(const Options& options, const std::string& name, std::string fallback = "") {
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

absl::Duration RetryForOption(const Options& options) {
  absl::StatusOr<absl::Duration> value =
      options.line.Duration("retry-for", absl::Minutes(5), absl::ZeroDuration());
  if (!value.ok()) UsageError(std::string(value.status().message()));
  return *value;
}

// --target, else $HUBSTATS_TARGET, else localhost:50051.
std::string TargetOption(const Options& options) {
  const char* environment = std::getenv("HUBSTATS_TARGET");
  return Option(options, "target", environment ? environment : "localhost:50051");
}

const char* CodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  return index >= 0 && index < 17 ? kNames[index] : "UNKNOWN";
}

// The server's message plus any field violations it sent that the message does not already say.
std::string DescribeError(const grpc::Status& status) {
  std::string text = absl::StrCat(CodeName(status.error_code()), ": ", status.error_message());
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
    default:
      break;
  }
  return text;
}

class Client {
 public:
  explicit Client(const Options& options) : options_(options) {
    target_ = TargetOption(options);
    auto channel = NewChannel(target_);
    ingest_ = v1::IngestService::NewStub(channel);
    query_ = v1::QueryService::NewStub(channel);
    timeout_seconds_ = IntOption(options, "timeout", 30, 1);
  }

  // A context with the query deadline.
  std::unique_ptr<grpc::ClientContext> Context() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(timeout_seconds_));
    return context;
  }

  void Check(const grpc::Status& status, absl::string_view what) const {
    if (!status.ok()) {
      Failure(absl::StrCat(what, " on ", target_, " failed: ", DescribeError(status)));
    }
  }

  // Sets `range` from --from/--to; returns false (leaving it empty) when neither is given.
  bool FillRange(v1::DateRange* range) const {
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

  v1::IngestService::Stub& ingest() { return *ingest_; }
  v1::QueryService::Stub& query() { return *query_; }
  const std::string& target() const { return target_; }

 private:
  const Options& options_;
  std::string target_;
  int timeout_seconds_ = 30;
  std::unique_ptr<v1::IngestService::Stub> ingest_;
  std::unique_ptr<v1::QueryService::Stub> query_;
};

std::string Percent(double value) { return absl::StrFormat("%.2f%%", value); }

// --- ingest and catalog -------------------------------------------------------------------

struct CatalogSummary {
  int64_t accepted = 0;
  int64_t rejected = 0;
  int64_t reclassified = 0;
  std::vector<LineError> errors;
};

void PrintCatalogSummary(const Options& options, const std::string& file, CatalogSummary summary) {
  std::sort(summary.errors.begin(), summary.errors.end(),
            [](const LineError& a, const LineError& b) { return a.line < b.line; });
  if (options.json) {
    JsonWriter json;
    json.BeginObject().Key("accepted").Int(summary.accepted);
    json.Key("rejected").Int(summary.rejected);
    json.Key("reclassified").Int(summary.reclassified);
    json.Key("errors").BeginArray();
    for (const LineError& error : summary.errors) {
      json.BeginObject().Key("line").Int(error.line).Key("reason").String(error.reason).EndObject();
    }
    json.EndArray().EndObject();
    std::printf("%s\n", json.text().c_str());
    return;
  }
  std::printf("%s: %s accepted, %s rejected, %s reclassified\n", file.c_str(),
              GroupThousands(summary.accepted).c_str(), GroupThousands(summary.rejected).c_str(),
              GroupThousands(summary.reclassified).c_str());
  for (const LineError& error : summary.errors) {
    std::printf("  line %d: %s\n", error.line, error.reason.c_str());
  }
}

std::ifstream OpenInput(const Options& options) {
  if (options.arguments.size() != 1) {
    UsageError(absl::StrCat("'", options.command, "' takes one FILE"));
  }
  std::ifstream input(options.arguments[0]);
  if (!input) Failure(absl::StrCat("cannot read ", options.arguments[0]));
  return input;
}

int RunIngest(const Options& options) {
  AllowOnly(options, {"batch-size", "producer-id", "retry-for"});
  std::ifstream input = OpenInput(options);
  IngestSettings settings;
  settings.batch_size = IntOption(options, "batch-size", 1000, 1);
  settings.producer_id = Option(options, "producer-id");
  if (settings.producer_id.empty()) settings.producer_id = NewProducerId();
  settings.retry_for = RetryForOption(options);
  for (absl::string_view target : absl::StrSplit(TargetOption(options), ',', absl::SkipEmpty())) {
    settings.targets.emplace_back(target);
  }
  if (settings.targets.empty()) UsageError("--target names no server");
  IngestSummary summary = IngestEvents(input, settings, [](const std::string& line) {
    std::fprintf(stderr, "hubstats: %s\n", line.c_str());
  });
  const std::string& file = options.arguments[0];
  if (options.json) {
    JsonWriter json;
    json.BeginObject().Key("accepted").Int(summary.accepted);
    json.Key("duplicates").Int(summary.duplicates);
    json.Key("rejected").Int(summary.rejected);
    json.Key("accepted_downloads").Int(summary.accepted_downloads);
    json.Key("duplicate_downloads").Int(summary.duplicate_downloads);
    json.Key("producer_id").String(settings.producer_id);
    json.Key("reconnects").Int(summary.reconnects);
    json.Key("errors").BeginArray();
    for (const LineError& error : summary.errors) {
      json.BeginObject().Key("line").Int(error.line).Key("reason").String(error.reason).EndObject();
    }
    json.EndArray().EndObject();
    std::printf("%s\n", json.text().c_str());
  } else {
    std::printf(
        "%s: %s accepted, %s duplicates skipped, %s rejected (%s downloads counted; "
        "producer %s)\n",
        file.c_str(), GroupThousands(summary.accepted).c_str(),
        GroupThousands(summary.duplicates).c_str(), GroupThousands(summary.rejected).c_str(),
        GroupThousands(summary.accepted_downloads).c_str(), settings.producer_id.c_str());
    for (const LineError& error : summary.errors) {
      std::printf("  line %d: %s\n", error.line, error.reason.c_str());
    }
  }
  if (!summary.status.ok()) {
    Failure(absl::StrCat("ingest stopped early (the summary covers what was acknowledged): ",
                         DescribeError(summary.status)));
  }
  return 0;
}

int RunCatalog(const Options& options) {
  AllowOnly(options, {"batch-size", "retry-for"});
  std::ifstream input = OpenInput(options);
  const int batch_size = IntOption(options, "batch-size", 1000, 1);
  const bool csv = absl::EndsWithIgnoreCase(options.arguments[0], ".csv");
  const absl::Duration retry_for = RetryForOption(options);
  Client client(options);
  CatalogSummary summary;
  v1::UpsertModelsRequest request;
  std::vector<int> request_lines;
  auto flush = [&] {
    if (request.models_size() == 0) return;
    v1::UpsertModelsResponse response;
    // An upsert replaces whole records, so sending one again is harmless: retry outages.
    const absl::Time give_up = absl::Now() + retry_for;
    absl::Duration backoff = absl::Milliseconds(100);
    grpc::Status status;
    while (true) {
      response.Clear();
      status = client.ingest().UpsertModels(client.Context().get(), request, &response);
      if (status.ok() || !IsRetryable(status.error_code()) || absl::Now() + backoff > give_up) {
        break;
      }
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(5));
    }
    client.Check(status, "catalog upsert");
    summary.accepted += response.accepted();
    summary.rejected += response.rejected();
    summary.reclassified += response.reclassified();
    for (const v1::Rejection& rejection : response.rejections()) {
      summary.errors.push_back({request_lines.at(rejection.index()), RejectionText(rejection)});
    }
    request.Clear();
    request_lines.clear();
  };
  auto add = [&](int line, absl::StatusOr<v1::ModelRecord> record) {
    if (!record.ok()) {
      ++summary.rejected;
      summary.errors.push_back({line, std::string(record.status().message())});
      return;
    }
    *request.add_models() = *std::move(record);
    request_lines.push_back(line);
    if (request.models_size() >= batch_size) flush();
  };

  std::string line;
  int line_number = 0;
  std::optional<RecordCsvReader> reader;
  CsvSplitter splitter;
  while (std::getline(input, line)) {
    ++line_number;
    if (!csv) {
      if (!absl::StripAsciiWhitespace(line).empty()) add(line_number, ParseRecordJson(line));
      continue;
    }
    if (!reader) {
      absl::StatusOr<RecordCsvReader> header = RecordCsvReader::FromHeader(line);
      if (!header.ok())
        Failure(absl::StrCat(options.arguments[0], ": ", header.status().message()));
      reader = *std::move(header);
      continue;
    }
    if (!splitter.Feed(line, line_number)) continue;
    CsvRecord record = splitter.Take();
    if (record.cells.size() == 1 && record.cells[0].empty()) continue;  // Blank line.
    add(record.line, reader->Parse(record.cells));
  }
  if (splitter.open()) {
    ++summary.rejected;
    summary.errors.push_back({line_number, "a quoted field is not closed at the end of the file"});
  }
  flush();
  PrintCatalogSummary(options, options.arguments[0], std::move(summary));
  return 0;
}

// --- queries --------------------------------------------------------------------------------

void NoArguments(const Options& options) {
  if (!options.arguments.empty()) {
    UsageError(absl::StrCat("'", options.command, "' takes no arguments, got '",
                            options.arguments[0], "'"));
  }
}

v1::Modality ModalityOption(const Options& options) {
  const std::string name = Option(options, "modality");
  if (name.empty()) return v1::MODALITY_UNSPECIFIED;
  absl::StatusOr<v1::Modality> modality = ParseModalityName(name);
  if (!modality.ok()) UsageError(std::string(modality.status().message()));
  return *modality;
}

std::string RangeLabel(const Options& options) {
  const std::string from = Option(options, "from"), to = Option(options, "to");
  if (from.empty() && to.empty()) return "all time";
  return absl::StrCat(from.empty() ? "start" : from, " .. ", to.empty() ? "latest" : to);
}

int RunModality(const Options& options) {
  AllowOnly(options, {"from", "to"});
  NoArguments(options);
  Client client(options);
  v1::ModalityShareRequest request;
  if (!client.FillRange(request.mutable_range())) request.clear_range();
  v1::ModalityShareResponse response;
  client.Check(client.query().GetModalityShare(client.Context().get(), request, &response),
               "modality share");
  if (options.json) {
    JsonWriter json;
    json.BeginObject()
        .Key("total_downloads")
        .Int(response.total_downloads())
        .Key("rows")
        .BeginArray();
    for (const auto& row : response.rows()) {
      json.BeginObject().Key("modality").String(row.name()).Key("downloads").Int(row.downloads());
      json.Key("share_pct").Double(row.share_pct()).EndObject();
    }
    json.EndArray().EndObject();
    std::printf("%s\n", json.text().c_str());
    return 0;
  }
  Table table({"modality", "downloads", "share"}, {false, true, true});
  for (const auto& row : response.rows()) {
    table.AddRow({row.name(), GroupThousands(row.downloads()), Percent(row.share_pct())});
  }
  table.AddRow({"total", GroupThousands(response.total_downloads()),
                Percent(response.total_downloads() > 0 ? 100.0 : 0.0)});
  std::printf("Download share by modality (%s)\n\n%s", RangeLabel(options).c_str(),
              table.Render().c_str());
  return 0;
}

int RunSizes(const Options& options) {
  AllowOnly(options, {"from", "to", "boundaries", "modality"});
  NoArguments(options);
  Client client(options);
  v1::SizeDistributionRequest request;
  if (!client.FillRange(request.mutable_range())) request.clear_range();
  request.set_modality(ModalityOption(options));
  const std::string boundaries = Option(options, "boundaries");
  if (!boundaries.empty()) {
    int index = 0;
    for (absl::string_view text : absl::StrSplit(boundaries, ',')) {
      absl::StatusOr<int64_t> value =
          ParseParameters(text, absl::StrCat("--boundaries item ", ++index));
      if (!value.ok()) UsageError(std::string(value.status().message()));
      request.add_boundaries(*value);
    }
  }
  v1::SizeDistributionResponse response;
  client.Check(client.query().GetSizeDistribution(client.Context().get(), request, &response),
               "size distribution");
  if (options.json) {
    JsonWriter json;
    json.BeginObject().Key("total_downloads").Int(response.total_downloads());
    json.Key("known_downloads").Int(response.known_downloads());
    json.Key("unknown_downloads").Int(response.unknown_downloads());
    json.Key("unknown_share_pct").Double(response.unknown_share_pct());
    json.Key("rows").BeginArray();
    for (const auto& row : response.rows()) {
      json.BeginObject().Key("label").String(row.label()).Key("lower").Int(row.lower());
      json.Key("upper");
      if (row.has_upper()) {
        json.Int(row.upper());
      } else {
        json.Null();
      }
      json.Key("downloads").Int(row.downloads()).Key("share_pct").Double(row.share_pct());
      json.Key("share_of_known_pct").Double(row.share_of_known_pct());
      json.Key("cumulative_pct").Double(row.cumulative_pct()).EndObject();
    }
    json.EndArray().EndObject();
    std::printf("%s\n", json.text().c_str());
    return 0;
  }
  Table table({"size", "downloads", "share", "of known", "cumulative"},
              {false, true, true, true, true});
  for (const auto& row : response.rows()) {
    table.AddRow({row.label(), GroupThousands(row.downloads()), Percent(row.share_pct()),
                  Percent(row.share_of_known_pct()), Percent(row.cumulative_pct())});
  }
  table.AddRow({"unknown", GroupThousands(response.unknown_downloads()),
                Percent(response.unknown_share_pct()), "", ""});
  const std::string modality = Option(options, "modality");
  std::printf("Downloads by model size (%s%s); known size: %s of %s downloads\n\n%s",
              RangeLabel(options).c_str(), modality.empty() ? "" : (", " + modality).c_str(),
              GroupThousands(response.known_downloads()).c_str(),
              GroupThousands(response.total_downloads()).c_str(), table.Render().c_str());
  return 0;
}

int RunTop(const Options& options) {
  AllowOnly(options, {"from", "to", "n", "by", "modality"});
  NoArguments(options);
  Client client(options);
  v1::TopNRequest request;
  if (!client.FillRange(request.mutable_range())) request.clear_range();
  request.set_modality(ModalityOption(options));
  request.set_n(IntOption(options, "n", 50, 1));
  const std::string by = Option(options, "by", "model");
  if (by == "model") {
    request.set_by(v1::RANK_BY_MODEL);
  } else if (by == "author") {
    request.set_by(v1::RANK_BY_AUTHOR);
  } else {
    UsageError(absl::StrCat("--by must be model or author for 'top', got '", by, "'"));
  }
  v1::TopNResponse response;
  client.Check(client.query().GetTopN(client.Context().get(), request, &response), "top-N");
  if (options.json) {
    JsonWriter json;
    json.BeginObject().Key("total_downloads").Int(response.total_downloads());
    json.Key("top_downloads").Int(response.top_downloads());
    json.Key("top_share_pct").Double(response.top_share_pct()).Key("rows").BeginArray();
    for (const auto& row : response.rows()) {
      json.BeginObject().Key("rank").Int(row.rank()).Key("id").String(row.id());
      json.Key("downloads").Int(row.downloads()).Key("share_pct").Double(row.share_pct());
      json.Key("cumulative_pct").Double(row.cumulative_pct()).EndObject();
    }
    json.EndArray().EndObject();
    std::printf("%s\n", json.text().c_str());
    return 0;
  }
  Table table({"rank", by, "downloads", "share", "cumulative"}, {true, false, true, true, true});
  for (const auto& row : response.rows()) {
    table.AddRow({absl::StrCat(row.rank()), row.id(), GroupThousands(row.downloads()),
                  Percent(row.share_pct()), Percent(row.cumulative_pct())});
  }
  std::printf("Top %d %ss (%s): %s of %s downloads\n\n%s", response.rows_size(), by.c_str(),
              RangeLabel(options).c_str(), Percent(response.top_share_pct()).c_str(),
              GroupThousands(response.total_downloads()).c_str(), table.Render().c_str());
  return 0;
}

int RunBreakdown(const Options& options) {
  AllowOnly(options, {"from", "to", "by", "modality"});
  NoArguments(options);
  Client client(options);
  v1::BreakdownRequest request;
  if (!client.FillRange(request.mutable_range())) request.clear_range();
  request.set_modality(ModalityOption(options));
  const std::string by = Option(options, "by");
  if (by == "task") {
    request.set_dimension(v1::DIMENSION_TASK);
  } else if (by == "architecture") {
    request.set_dimension(v1::DIMENSION_ARCHITECTURE);
  } else if (by == "library") {
    request.set_dimension(v1::DIMENSION_LIBRARY);
  } else {
    UsageError("breakdown needs --by task, --by architecture or --by library");
  }
  v1::BreakdownResponse response;
  client.Check(client.query().GetBreakdown(client.Context().get(), request, &response),
               "breakdown");
  if (options.json) {
    JsonWriter json;
    json.BeginObject()
        .Key("total_downloads")
        .Int(response.total_downloads())
        .Key("rows")
        .BeginArray();
    for (const auto& row : response.rows()) {
      json.BeginObject().Key("key").String(row.key()).Key("downloads").Int(row.downloads());
      json.Key("share_pct").Double(row.share_pct()).EndObject();
    }
    json.EndArray().EndObject();
    std::printf("%s\n", json.text().c_str());
    return 0;
  }
  Table table({by, "downloads", "share"}, {false, true, true});
  for (const auto& row : response.rows()) {
    table.AddRow({row.key(), GroupThousands(row.downloads()), Percent(row.share_pct())});
  }
  std::printf("Downloads by %s (%s)\n\n%s", by.c_str(), RangeLabel(options).c_str(),
              table.Render().c_str());
  return 0;
}

std::string DateText(const v1::Date& date) {
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(), date.day());
}

int RunTotals(const Options& options) {
  AllowOnly(options, {"from", "to"});
  NoArguments(options);
  Client client(options);
  v1::TotalsRequest request;
  if (!client.FillRange(request.mutable_range())) request.clear_range();
  v1::TotalsResponse response;
  client.Check(client.query().GetTotals(client.Context().get(), request, &response), "totals");
  if (options.json) {
    JsonWriter json;
    json.BeginObject().Key("total_downloads").Int(response.total_downloads());
    json.Key("models_with_downloads").Int(response.models_with_downloads());
    json.Key("authors_with_downloads").Int(response.authors_with_downloads());
    json.Key("catalogued_models").Int(response.catalogued_models());
    json.Key("first_day");
    response.has_first_day() ? json.String(DateText(response.first_day())) : json.Null();
    json.Key("last_day");
    response.has_last_day() ? json.String(DateText(response.last_day())) : json.Null();
    json.EndObject();
    std::printf("%s\n", json.text().c_str());
    return 0;
  }
  Table table({"", ""}, {false, true});
  table.AddRow({"total downloads", GroupThousands(response.total_downloads())});
  table.AddRow({"models with downloads", GroupThousands(response.models_with_downloads())});
  table.AddRow({"authors with downloads", GroupThousands(response.authors_with_downloads())});
  table.AddRow({"catalogued models", GroupThousands(response.catalogued_models())});
  table.AddRow({"first day", response.has_first_day() ? DateText(response.first_day()) : "-"});
  table.AddRow({"last day", response.has_last_day() ? DateText(response.last_day()) : "-"});
  std::printf("Totals (%s)\n%s", RangeLabel(options).c_str(), table.Render().c_str());
  return 0;
}

// "encoder", ...; "" when unspecified. v1::Architecture and core's Architecture share values.
std::string ArchitectureText(v1::Architecture architecture) {
  return std::string(ArchitectureName(static_cast<Architecture>(architecture)));
}

int RunModel(const Options& options) {
  AllowOnly(options, {"from", "to"});
  if (options.arguments.size() != 1) UsageError("'model' takes one model ID");
  Client client(options);
  v1::ModelStatsRequest request;
  request.set_model_id(options.arguments[0]);
  if (!client.FillRange(request.mutable_range())) request.clear_range();
  v1::ModelStatsResponse response;
  client.Check(client.query().GetModelStats(client.Context().get(), request, &response),
               "model stats");
  const v1::ModelRecord& record = response.record();
  if (options.json) {
    JsonWriter json;
    json.BeginObject().Key("model_id").String(response.model_id());
    json.Key("author").String(response.author()).Key("catalogued").Bool(response.catalogued());
    json.Key("record");
    if (response.catalogued()) {
      json.BeginObject().Key("pipeline_tag").String(record.pipeline_tag());
      json.Key("modality").String(ModalityShortName(record.modality()));
      json.Key("num_parameters").Int(record.num_parameters());
      json.Key("architecture").String(ArchitectureText(record.architecture()));
      json.Key("library_name").String(record.library_name()).EndObject();
    } else {
      json.Null();
    }
    json.Key("modality").String(response.modality_name());
    json.Key("size_class").String(response.size_class());
    json.Key("downloads_all_time").Int(response.downloads_all_time());
    json.Key("downloads_in_range").Int(response.downloads_in_range());
    json.Key("rank_all_time").Int(response.rank_all_time());
    json.Key("rank_in_range").Int(response.rank_in_range());
    json.Key("revisions").BeginArray();
    for (const auto& revision : response.revisions()) {
      json.BeginObject().Key("revision").String(revision.revision());
      json.Key("downloads").Int(revision.downloads()).EndObject();
    }
    json.EndArray().Key("days").BeginArray();
    for (const auto& day : response.days()) {
      json.BeginObject().Key("day").String(DateText(day.day()));
      json.Key("downloads").Int(day.downloads()).EndObject();
    }
    json.EndArray().EndObject();
    std::printf("%s\n", json.text().c_str());
    return 0;
  }
  Table table({"", ""}, {false, false});
  table.AddRow({"model", response.model_id()});
  table.AddRow({"author", response.author()});
  table.AddRow({"catalogued", response.catalogued() ? "yes" : "no"});
  if (response.catalogued()) {
    table.AddRow({"pipeline tag", record.pipeline_tag().empty() ? "-" : record.pipeline_tag()});
    table.AddRow({"parameters", record.num_parameters() == 0
                                    ? "unknown"
                                    : GroupThousands(record.num_parameters())});
    table.AddRow({"architecture", record.architecture() == v1::ARCHITECTURE_UNSPECIFIED
                                      ? std::string("-")
                                      : ArchitectureText(record.architecture())});
    table.AddRow({"library", record.library_name().empty() ? "-" : record.library_name()});
  }
  table.AddRow({"modality", response.modality_name()});
  table.AddRow({"size class", response.size_class()});
  table.AddRow({"downloads (all time)", GroupThousands(response.downloads_all_time())});
  table.AddRow({"rank (all time)",
                response.rank_all_time() == 0 ? "-" : absl::StrCat("#", response.rank_all_time())});
  if (!Option(options, "from").empty() || !Option(options, "to").empty()) {
    table.AddRow({absl::StrCat("downloads (", RangeLabel(options), ")"),
                  GroupThousands(response.downloads_in_range())});
    table.AddRow({"rank (range)", response.rank_in_range() == 0
                                      ? "-"
                                      : absl::StrCat("#", response.rank_in_range())});
  }
  std::printf("%s", table.Render().c_str());
  if (response.revisions_size() > 0) {
    Table revisions({"revision", "downloads"}, {false, true});
    for (const auto& revision : response.revisions()) {
      revisions.AddRow({revision.revision(), GroupThousands(revision.downloads())});
    }
    std::printf("\n%s", revisions.Render().c_str());
  }
  if (response.days_size() > 0) {
    Table days({"day", "downloads"}, {false, true});
    for (const auto& day : response.days()) {
      days.AddRow({DateText(day.day()), GroupThousands(day.downloads())});
    }
    std::printf("\n%s", days.Render().c_str());
  }
  return 0;
}

}  // namespace
}  // namespace hubstats::cli

int main(int argc, char** argv) {
  using namespace hubstats::cli;
  const Options options = ParseArguments(argc, argv);
  const std::map<std::string, int (*)(const Options&)> commands = {
      {"ingest", RunIngest}, {"catalog", RunCatalog}, {"modality", RunModality},
      {"sizes", RunSizes},   {"top", RunTop},         {"breakdown", RunBreakdown},
      {"totals", RunTotals}, {"model", RunModel}};
  auto command = commands.find(options.command);
  if (command == commands.end())
    UsageError(absl::StrCat("unknown command '", options.command, "'"));
  return command->second(options);
}
