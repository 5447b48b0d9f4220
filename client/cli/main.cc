// hubstats: command-line client for a hubstats server.
//
// Usage: hubstats [options] COMMAND [arguments]   (options may also follow the command)
// Run `hubstats --help` for the commands and options. The commands live in command families
// (ingest_command.cc, catalog_command.cc, query_commands.cc, crosstab_command.cc,
// export_command.cc); this file parses and dispatches.
#include <cstdio>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "command.h"
#include "common/enum_names.h"

namespace hubstats::cli {
namespace {

// The modality names are spliced in from common/enum_names.h, so help and errors list the same.
constexpr char kHelpFormat[] = R"(hubstats: command-line client for a hubstats server

usage: hubstats [options] COMMAND [arguments]      (options may come before or after COMMAND)

commands:
  ingest FILE               stream download events (keys model_id, timestamp, count,
                            revision); bad lines are reported, the rest count exactly once,
                            through server restarts, failover and Redis outages
  catalog FILE              upsert catalog records (keys model_id or modelId, pipeline_tag,
                            modality, num_parameters, architecture, library_name or library)
  modality                  download share per modality
  sizes                     downloads per model-size class
  top                       top-N models or authors
  breakdown                 downloads per task, architecture or library
  totals                    total downloads, models and authors with downloads, catalog size
  model ID                  one model: record, downloads, rank, revisions, days
  trend                     shares per day, ISO week or month of the range, by a dimension
  crosstab                  downloads by two dimensions at once (--rows, --columns)
  export                    every model with downloads: rank, downloads, share, class, as CSV
                            or JSON lines, to stdout or --out FILE

input files (ingest, catalog): JSON lines (.jsonl, .ndjson, .json: one object per line) or
  CSV with a header row (.csv), or as --format says. Unknown keys or columns are errors.
  timestamp: RFC 3339 (2024-09-20T12:00:00Z; no offset means UTC), a YYYY-MM-DD date
  (midnight UTC), or Unix seconds. num_parameters: 110000000, 110M, 7B, 1.5B.
  modality: %s
    in any letter case, with '-' or ' ' for '_', and an optional MODALITY_ prefix.
  architecture: encoder, decoder, encoder-decoder, other.

options:
  --target HOST:PORT        server address [$HUBSTATS_TARGET or localhost:50051]; ingest
                            takes a list A,B,... and fails over between them
  --from YYYY-MM-DD         first day of the range (inclusive, UTC)
  --to YYYY-MM-DD           last day of the range (inclusive, UTC)
  --json                    print JSON instead of tables
  --timeout SECONDS         deadline of each query [30; export: 600]
  --boundaries LIST         sizes, trend: class boundaries, any parameter counts (7B,13B,70B)
                            [200M,500M,1B]
  --modality M              sizes, top, breakdown, trend, crosstab, export: only this
                            modality (as above)
  --n N                     top, trend: how many [50]
  --author A, --task T, --library L, --min-size P, --max-size P
                            top, export: only models of this author, pipeline tag, library,
                            or with min-size <= parameters < max-size (e.g. --min-size 7B)
  --by model|author         top: rank models or authors [model]
  --by task|architecture|library    breakdown: the dimension (required)
  --by D                    trend: modality, size, task, architecture, library, top-models
                            or top-authors (the share of the top --n per period) [modality]
  --granularity G           trend: day, week (ISO, Monday to Sunday) or month [month]
  --rows D, --columns D     crosstab: two of modality, size, task, architecture, library
                            (required; --boundaries applies to size)
  --format jsonl|csv        ingest, catalog: the file's format [by its extension];
                            export: the output's format [--out's extension, else csv]
  --out FILE                export: write FILE (whole or not at all) instead of stdout
  --chunk-size N            export: models per streamed message, 1..10000 [1000]
  --batch-size N            ingest, catalog: items per request [1000]
  --batch-bytes SIZE        ingest, catalog: bytes per request, e.g. 4MiB, 512KiB [4MiB];
                            at most 16MiB (the server's default --max-message-mb); a line
                            larger than this is rejected
  --producer-id ID          ingest: exactly-once identity; give the same ID (and file,
                            --batch-size and --batch-bytes) to re-run a job safely
                            [a new ID per run]
  --retry-for DURATION      ingest, catalog: keep retrying this long without progress [5m];
                            without it, a run that reaches no server fails at once
  --tls                     connect with TLS, verifying the server with the system's CAs
                            [$HUBSTATS_TLS]
  --ca-file FILE            connect with TLS, verifying the server with these CAs
                            [$HUBSTATS_CA_FILE]
  --cert-file FILE          client certificate for mutual TLS [$HUBSTATS_CERT_FILE] ...
  --key-file FILE           ... and its key [$HUBSTATS_KEY_FILE]
  --tls-server-name NAME    name the server's certificate must hold [the target's host;
                            $HUBSTATS_TLS_SERVER_NAME]
  --token-file FILE         bearer token for servers that require one [$HUBSTATS_TOKEN_FILE,
                            else the token itself in $HUBSTATS_TOKEN; never an argument]
  --help                    this text

exit status: 0 done (ingest/catalog: even when some lines were rejected; see the summary),
             1 the server or the file failed, or every line was rejected, 2 bad usage.
)";

// `text` broken after commas into lines of at most `width` characters, joined by `joint`.
std::string Wrapped(const std::string& text, size_t width, const std::string& joint) {
  std::string wrapped, line;
  for (absl::string_view word : absl::StrSplit(text, ' ')) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      absl::StrAppend(&wrapped, line, joint);
      line.clear();
    }
    absl::StrAppend(&line, line.empty() ? "" : " ", word);
  }
  return wrapped + line;
}

Options ParseArguments(int argc, char** argv) {
  absl::StatusOr<client::CommandLine> line = client::CommandLine::Parse(argc, argv, CliOptions());
  if (!line.ok()) UsageError(std::string(line.status().message()));
  if (line->help()) {
    std::printf(kHelpFormat, Wrapped(client::ModalityChoices(), 78, "\n    ").c_str());
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

}  // namespace
}  // namespace hubstats::cli

int main(int argc, char** argv) {
  using namespace hubstats::cli;
  const Options options = ParseArguments(argc, argv);
  const std::map<std::string, int (*)(const Options&)> commands = {
      {"ingest", RunIngest},     {"catalog", RunCatalog}, {"modality", RunModality},
      {"sizes", RunSizes},       {"top", RunTop},         {"breakdown", RunBreakdown},
      {"totals", RunTotals},     {"model", RunModel},     {"trend", RunTrend},
      {"crosstab", RunCrossTab}, {"export", RunExport}};
  auto command = commands.find(options.command);
  if (command == commands.end()) {
    UsageError(absl::StrCat("unknown command '", options.command, "'"));
  }
  return command->second(options);
}
