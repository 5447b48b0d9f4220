// The input rules of the CLI: files of download events or catalog records, as JSON lines or CSV.
//
// These are the rules docs/API.md states ("Input files") and the Python client applies too
// (hubstats/_input.py); tests/input_rules holds the cases both run.
//
// * Format: --format jsonl|csv, else the file's extension (.jsonl, .ndjson, .json: JSON lines;
//   .csv: CSV with a header row).
// * Keys: events take model_id, timestamp, count, revision; catalog records take model_id
//   (also modelId), pipeline_tag, modality, num_parameters, architecture, library_name (also
//   library). Any other key is an error: of that line in JSON lines, of the header (line 1,
//   the whole file) in CSV. A JSON null and an empty CSV cell leave the field out.
// * Values: in JSON lines a number must be a JSON number and text a JSON string; in CSV every
//   cell is text read as the field's type.
// * timestamp: an RFC 3339 time (2024-09-20T12:00:00Z; 'T', 't' or ' ' between date and time;
//   no offset means UTC), a YYYY-MM-DD date (midnight UTC), or Unix seconds (a number, or a
//   numeric CSV cell).
// * count and num_parameters: whole numbers; num_parameters also as "7B", "1.5B", "110M".
// * modality and architecture: see common/enum_names.h.
// Ranges and id rules are the server's to check; it names the field.
//
// Thread-compatible: a reader is used by one thread at a time.
#ifndef HUBSTATS_CLIENT_CLI_INPUT_H_
#define HUBSTATS_CLIENT_CLI_INPUT_H_

#include <istream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "csv.h"
#include "hubstats/v1/hubstats.pb.h"

namespace hubstats::cli {

enum class InputFormat { kJsonLines, kCsv };
enum class ItemKind { kEvent, kRecord };

// `format_option` ("jsonl", "json", "ndjson" or "csv") when not empty, else by the extension
// of `path`. INVALID_ARGUMENT naming --format otherwise.
absl::StatusOr<InputFormat> ChooseFormat(absl::string_view path, absl::string_view format_option);

// The keys an item of `kind` takes, for messages: "model_id, timestamp, count, revision".
std::string KeysOf(ItemKind kind);

// One value of an item as the file gives it.
struct InputValue {
  enum class Type { kText, kNumber, kOther };  // kOther: a JSON true/false, array or object.
  Type type = Type::kText;
  std::string text;   // kText; the JSON text for kOther.
  double number = 0;  // kNumber.
  bool csv = false;   // A CSV cell: text that may stand for a number.
};

// An item's fields under their canonical names, in file order.
using InputFields = std::vector<std::pair<std::string, InputValue>>;

// One item of a file: the line it starts on and its fields, or why the line cannot be read
// (INVALID_ARGUMENT; core's FieldOf names the key when one is to blame).
struct InputItem {
  int line = 0;
  absl::Status error;
  InputFields fields;
};

// A problem with one line of a file, for summaries: "line 13: <reason>".
struct LineError {
  int line = 0;
  std::string reason;  // "<field>: <reason>" when a field is to blame.
};

class InputReader {
 public:
  // Reads a CSV header at once: INVALID_ARGUMENT "line N: ..." when it cannot be used (a
  // malformed line, an unknown or repeated column, no model_id column). Lines (CSV records)
  // longer than `max_item_bytes` are items with an error.
  static absl::StatusOr<std::unique_ptr<InputReader>> Open(std::istream& input, InputFormat format,
                                                           ItemKind kind, size_t max_item_bytes);

  // The next item, false at the end. Blank lines are skipped.
  bool Next(InputItem& item);

 private:
  InputReader(std::istream& input, InputFormat format, ItemKind kind, size_t max_item_bytes);

  const InputFormat format_;
  const ItemKind kind_;
  const size_t max_item_bytes_;
  LineReader lines_;
  CsvReader csv_;
  std::vector<std::string> columns_;  // CSV: canonical key of each column.
};

// The event or record an item's fields describe; INVALID_ARGUMENT naming the field otherwise.
absl::StatusOr<v1::DownloadEvent> EventFromFields(const InputFields& fields);
absl::StatusOr<v1::ModelRecord> RecordFromFields(const InputFields& fields);

// A timestamp as text: an RFC 3339 time or a YYYY-MM-DD date (see above). INVALID_ARGUMENT
// otherwise.
absl::StatusOr<absl::Time> ParseTimestampText(absl::string_view text);

}  // namespace hubstats::cli

#endif  // HUBSTATS_CLIENT_CLI_INPUT_H_
