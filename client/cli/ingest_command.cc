// `hubstats ingest FILE`: streams download events exactly once (ingest.h does the work).
#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "command.h"
#include "ingest.h"
#include "output.h"

namespace hubstats::cli {
namespace {

void PrintSummary(const Options& options, const std::string& file, const std::string& producer,
                  const IngestSummary& summary) {
  if (options.json) {
    JsonWriter json;
    json.BeginObject().Key("accepted").Int(summary.accepted);
    json.Key("duplicates").Int(summary.duplicates);
    json.Key("rejected").Int(summary.rejected);
    json.Key("accepted_downloads").Int(summary.accepted_downloads);
    json.Key("duplicate_downloads").Int(summary.duplicate_downloads);
    json.Key("accepted_all_time_only").Int(summary.accepted_all_time_only);
    json.Key("producer_id").String(producer);
    json.Key("reconnects").Int(summary.reconnects);
    json.Key("version").String(summary.version);
    json.Key("errors");
    WriteLineErrors(json, summary.errors);
    json.EndObject();
    std::printf("%s\n", json.text().c_str());
    return;
  }
  std::printf(
      "%s: %s accepted, %s duplicates skipped, %s rejected (%s downloads counted; producer %s)\n",
      file.c_str(), GroupThousands(summary.accepted).c_str(),
      GroupThousands(summary.duplicates).c_str(), GroupThousands(summary.rejected).c_str(),
      GroupThousands(summary.accepted_downloads).c_str(), producer.c_str());
  if (summary.accepted_all_time_only > 0) {
    std::printf("%s: %s accepted events were late and counted into all time only (no day)\n",
                file.c_str(), GroupThousands(summary.accepted_all_time_only).c_str());
  }
  PrintLineErrors(summary.errors);
}

}  // namespace

int RunIngest(const Options& options) {
  AllowOnly(options, {"batch-size", "batch-bytes", "producer-id", "retry-for", "format"});
  const InputFile file = InputFileOption(options);
  IngestSettings settings;
  settings.batch_size = IntOption(options, "batch-size", 1000, 1);
  settings.batch_bytes = BatchBytesOption(options);
  settings.security = SecurityOption(options);
  settings.producer_id = Option(options, "producer-id");
  if (settings.producer_id.empty()) settings.producer_id = NewProducerId();
  settings.retry_for = RetryForOption(options, &settings.retry_before_contact);
  for (absl::string_view target : absl::StrSplit(TargetOption(options), ',', absl::SkipEmpty())) {
    settings.targets.emplace_back(target);
  }
  if (settings.targets.empty()) UsageError("--target names no server");

  std::ifstream stream(file.path, std::ios::binary);
  if (!stream) Failure(absl::StrCat("cannot read ", file.path));
  absl::StatusOr<std::unique_ptr<InputReader>> input =
      InputReader::Open(stream, file.format, ItemKind::kEvent, settings.batch_bytes);
  if (!input.ok()) Failure(absl::StrCat(file.path, ": ", input.status().message()));
  const IngestSummary summary = IngestEvents(**input, settings, [](const std::string& line) {
    std::fprintf(stderr, "hubstats: %s\n", line.c_str());
  });
  PrintSummary(options, file.path, settings.producer_id, summary);
  if (!summary.status.ok()) {
    Failure(absl::StrCat("ingest stopped early (the summary covers what was acknowledged): ",
                         DescribeError(summary.status)));
  }
  if (summary.accepted + summary.duplicates == 0 && summary.rejected > 0) {
    Failure(absl::StrCat("every line of ", file.path, " was rejected"));
  }
  return 0;
}

}  // namespace hubstats::cli
