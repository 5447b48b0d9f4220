// Reading the CLI's input files: download events (JSON Lines) and catalog records (JSON Lines
// or CSV with a header row). Each parser turns one line into a proto message or explains,
// in one sentence, why it cannot.
#ifndef HUBSTATS_CLIENT_CLI_INPUT_H_
#define HUBSTATS_CLIENT_CLI_INPUT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hubstats/v1/hubstats.pb.h"

namespace hubstats::cli {

// One JSON object per line with keys model_id (required), timestamp (RFC 3339 string, a
// YYYY-MM-DD date meaning midnight UTC, or Unix seconds as a number), count (integer) and
// revision. Other keys are ignored. INVALID_ARGUMENT with the reason for malformed lines;
// value checks (ranges, id rules) are left to the server, which names the field.
absl::StatusOr<v1::DownloadEvent> ParseEventLine(absl::string_view line);

// One JSON object per line with keys model_id (or modelId), pipeline_tag, modality (e.g.
// "nlp", "computer_vision"), num_parameters (integer or "7B"-style string), architecture
// ("encoder", "decoder", "encoder-decoder", "other") and library_name (or library).
absl::StatusOr<v1::ModelRecord> ParseRecordJson(absl::string_view line);

// CSV (RFC 4180: quoted fields may hold commas, quotes and newlines) with a header row naming
// the same columns as ParseRecordJson; other columns are ignored; empty cells are unset.
class RecordCsvReader {
 public:
  // INVALID_ARGUMENT when the header has no model_id/modelId column.
  static absl::StatusOr<RecordCsvReader> FromHeader(absl::string_view header_line);
  absl::StatusOr<v1::ModelRecord> Parse(const std::vector<std::string>& cells) const;

 private:
  std::vector<std::string> columns_;
};

// Splits CSV text into records of cells; each record remembers the line it starts on.
struct CsvRecord {
  int line = 0;
  std::vector<std::string> cells;
};
class CsvSplitter {
 public:
  // Feeds one physical line (without its newline). Returns true when a record is complete.
  bool Feed(absl::string_view line, int line_number);
  CsvRecord Take() { return std::move(current_); }
  // True when a quoted field is still open (at end of input: a malformed record).
  bool open() const { return in_quotes_; }

 private:
  CsvRecord current_;
  std::string cell_;
  bool in_quotes_ = false;
  bool started_ = false;
};

// "nlp" -> MODALITY_NLP (also "cv", "rl"); INVALID_ARGUMENT listing the valid names.
absl::StatusOr<v1::Modality> ParseModalityName(absl::string_view name);
// MODALITY_NLP -> "nlp".
std::string ModalityShortName(v1::Modality modality);

}  // namespace hubstats::cli

#endif  // HUBSTATS_CLIENT_CLI_INPUT_H_
