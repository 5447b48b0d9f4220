// The export command: every model with downloads in the range (and the filters) as CSV or JSON
// Lines, streamed from ExportModels chunk by chunk, so memory stays at one chunk however many
// models there are. With --out the file appears whole or not at all (written beside it, then
// renamed), and progress goes to stderr.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "command.h"
#include "input.h"
#include "output.h"
#include "query.h"

namespace hubstats::cli {
namespace {

// An export is one call: its deadline is --timeout when given, else this long.
constexpr int kDefaultExportSeconds = 600;

// --format, else --out's extension, else --json (JSON lines), else CSV. The names and
// extensions are the input files' (ChooseFormat): what `ingest` reads, `export` writes.
InputFormat FormatOption(const Options& options) {
  const std::string format = Option(options, "format");
  if (!format.empty()) {
    absl::StatusOr<InputFormat> chosen = ChooseFormat("", format);
    if (!chosen.ok()) UsageError(std::string(chosen.status().message()));
    return *chosen;
  }
  if (absl::StatusOr<InputFormat> by_extension = ChooseFormat(Option(options, "out"), "");
      by_extension.ok()) {
    return *by_extension;
  }
  return options.json ? InputFormat::kJsonLines : InputFormat::kCsv;
}

constexpr const char* kColumns[] = {"rank",      "model_id",       "author",     "downloads",
                                    "share_pct", "modality",       "task",       "architecture",
                                    "library",   "num_parameters", "size_class", "catalogued"};

std::string CsvHeader() {
  std::string line;
  for (const char* column : kColumns) absl::StrAppend(&line, line.empty() ? "" : ",", column);
  return line + "\n";
}

std::string CsvLine(const v1::ExportedModel& model) {
  return absl::StrCat(
      model.rank(), ",", CsvField(model.model_id()), ",", CsvField(model.author()), ",",
      model.downloads(), ",", FormatDouble(model.share_pct()), ",", CsvField(model.modality()), ",",
      CsvField(model.task()), ",", CsvField(model.architecture()), ",", CsvField(model.library()),
      ",", model.has_num_parameters() ? absl::StrCat(model.num_parameters()) : "", ",",
      CsvField(model.size_class()), ",", model.catalogued() ? "true" : "false", "\n");
}

std::string JsonLine(const v1::ExportedModel& model) {
  JsonWriter json;
  json.BeginObject().Key("rank").Int(model.rank()).Key("model_id").String(model.model_id());
  json.Key("author").String(model.author()).Key("downloads").Int(model.downloads());
  json.Key("share_pct").Double(model.share_pct()).Key("modality").String(model.modality());
  json.Key("task").String(model.task()).Key("architecture").String(model.architecture());
  json.Key("library").String(model.library()).Key("num_parameters");
  model.has_num_parameters() ? json.Int(model.num_parameters()) : json.Null();
  json.Key("size_class").String(model.size_class()).Key("catalogued").Bool(model.catalogued());
  return json.EndObject().text() + "\n";
}

// Where the export goes: stdout, or a temporary file beside --out that Commit renames to it.
// Ends the process (exit 1) when the file cannot be written; the temporary file is removed.
// Failure() exits without unwinding, so a failing command calls Abandon first.
class Sink {
 public:
  explicit Sink(std::string out) : out_(std::move(out)) {
    if (out_.empty() || out_ == "-") {
      file_ = stdout;
      return;
    }
    temporary_ = absl::StrCat(out_, ".partial-", getpid());
    file_ = std::fopen(temporary_.c_str(), "w");
    if (file_ == nullptr) Failure(absl::StrCat("cannot write ", out_, ": ", std::strerror(errno)));
  }
  ~Sink() { Abandon(); }

  // Removes the temporary file: the export failed.
  void Abandon() {
    if (file_ != nullptr && file_ != stdout) {
      std::fclose(file_);
      std::remove(temporary_.c_str());
    }
    file_ = nullptr;
  }

  void Write(const std::string& text) {
    if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) Fail();
  }
  void Commit() {
    if (std::fflush(file_) != 0) Fail();
    if (file_ == stdout) return;
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    if (!closed || std::rename(temporary_.c_str(), out_.c_str()) != 0) Fail();
  }
  bool to_file() const { return !temporary_.empty(); }

 private:
  [[noreturn]] void Fail() {
    const std::string reason = std::strerror(errno);
    Abandon();
    if (!temporary_.empty()) std::remove(temporary_.c_str());
    Failure(absl::StrCat("cannot write ", out_.empty() ? "the output" : out_, ": ", reason));
  }

  std::string out_;
  std::string temporary_;
  std::FILE* file_ = nullptr;
};

}  // namespace

int RunExport(const Options& options) {
  NoArguments(options);
  std::set<std::string> allowed = kModelFilterOptions;
  allowed.insert({"from", "to", "format", "out", "chunk-size"});
  Query query(options, std::move(allowed));
  const InputFormat format = FormatOption(options);
  v1::ExportRequest request;
  SetModelFilters(options, request);
  if (options.line.Has("chunk-size"))
    request.set_chunk_size(IntOption(options, "chunk-size", 0, 1));
  query.Prepare(request);

  auto context = query.connection().Context();
  if (!options.line.Has("timeout")) {
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(kDefaultExportSeconds));
  }
  auto reader = query.connection().query().ExportModels(context.get(), request);
  Sink sink(Option(options, "out"));
  const bool progress = sink.to_file() && isatty(STDERR_FILENO);
  if (format == InputFormat::kCsv) sink.Write(CsvHeader());
  auto fail = [&](const std::string& reason) {
    sink.Abandon();
    Failure(absl::StrCat("export from ", query.connection().target(), " ", reason));
  };
  v1::ExportChunk chunk, first;
  int64_t written = 0;
  bool any = false;
  while (reader->Read(&chunk)) {
    if (!any) {
      first = chunk;
      first.clear_models();
      any = true;
    } else if (chunk.total_models() != first.total_models() ||
               chunk.as_of().version() != first.as_of().version()) {
      // The server keeps one export at one version; anything else is a broken stream.
      fail("changed its totals or version mid-stream");
    }
    for (const auto& model : chunk.models()) {
      if (model.rank() != written + 1) {
        fail(absl::StrCat("sent rank ", model.rank(), " after ", written));
      }
      sink.Write(format == InputFormat::kCsv ? CsvLine(model) : JsonLine(model));
      ++written;
    }
    if (progress) {
      std::fprintf(stderr, "\rexported %s of %s models", GroupThousands(written).c_str(),
                   GroupThousands(first.total_models()).c_str());
    }
  }
  if (progress) std::fprintf(stderr, "\n");
  const grpc::Status status = reader->Finish();
  if (!status.ok()) {
    sink.Abandon();
    query.connection().Check(status, "export");
  }
  if (written != first.total_models()) {
    fail(absl::StrCat("ended after ", written, " of ", first.total_models(), " models"));
  }
  sink.Commit();
  // stdout may be the export itself: the note that it is empty goes to stderr.
  query.ReportedEmpty(first.total_downloads(), ModelFilterScope(options), stderr);
  if (sink.to_file()) {
    std::fprintf(stderr, "exported %s models (%s downloads, %s%s) to %s\n",
                 GroupThousands(written).c_str(), GroupThousands(first.total_downloads()).c_str(),
                 RangeLabel(options).c_str(), ModelFilterScope(options).c_str(),
                 Option(options, "out").c_str());
  }
  return 0;
}

}  // namespace hubstats::cli
