// `hubstats catalog FILE`: upserts catalog records (catalog.h does the work).
#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "catalog.h"
#include "command.h"
#include "output.h"

namespace hubstats::cli {
namespace {

void PrintSummary(const Options& options, const std::string& file, const CatalogSummary& summary) {
  if (options.json) {
    JsonWriter json;
    json.BeginObject().Key("accepted").Int(summary.accepted);
    json.Key("rejected").Int(summary.rejected);
    json.Key("reclassified").Int(summary.reclassified);
    json.Key("errors");
    WriteLineErrors(json, summary.errors);
    json.EndObject();
    std::printf("%s\n", json.text().c_str());
    return;
  }
  std::printf("%s: %s accepted, %s rejected, %s reclassified\n", file.c_str(),
              GroupThousands(summary.accepted).c_str(), GroupThousands(summary.rejected).c_str(),
              GroupThousands(summary.reclassified).c_str());
  PrintLineErrors(summary.errors);
}

}  // namespace

int RunCatalog(const Options& options) {
  AllowOnly(options, {"batch-size", "batch-bytes", "retry-for", "format"});
  const InputFile file = InputFileOption(options);
  CatalogSettings settings;
  settings.target = TargetOption(options);
  settings.security = SecurityOption(options);
  settings.batch_size = IntOption(options, "batch-size", 1000, 1);
  settings.batch_bytes = BatchBytesOption(options);
  settings.timeout = absl::Seconds(IntOption(options, "timeout", 30, 1));
  settings.retry_for = RetryForOption(options, &settings.retry_before_contact);

  std::ifstream stream(file.path, std::ios::binary);
  if (!stream) Failure(absl::StrCat("cannot read ", file.path));
  absl::StatusOr<std::unique_ptr<InputReader>> input =
      InputReader::Open(stream, file.format, ItemKind::kRecord, settings.batch_bytes);
  if (!input.ok()) Failure(absl::StrCat(file.path, ": ", input.status().message()));
  const CatalogSummary summary = UploadCatalog(**input, settings, [](const std::string& line) {
    std::fprintf(stderr, "hubstats: %s\n", line.c_str());
  });
  PrintSummary(options, file.path, summary);
  if (!summary.status.ok()) {
    Failure(absl::StrCat("catalog upload stopped early (the summary covers what was written): ",
                         DescribeError(summary.status)));
  }
  if (summary.accepted == 0 && summary.rejected > 0) {
    Failure(absl::StrCat("every line of ", file.path, " was rejected"));
  }
  return 0;
}

}  // namespace hubstats::cli
