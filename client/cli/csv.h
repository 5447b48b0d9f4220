// CSV records (RFC 4180) from a stream, with recovery after a malformed record.
//
// Fields are separated by commas; a field may be quoted, and then holds commas, newlines and
// quotes written twice (""). A quote anywhere else is malformed: inside an unquoted field
// (`text"gen`) or after a closing quote (`"abc"d`). Lines may end in CRLF.
//
// Recovery, so one bad record never swallows the rest of the file:
// * a malformed record on one physical line is reported at that line, and reading resumes on
//   the next line;
// * a quoted field that runs over several lines and then goes wrong (never closed before the
//   end of the input, closed by a quote followed by more text, or longer than the record limit)
//   is taken for a stray opening quote: it is reported at the line where it opened, and the
//   lines after that one are read again as records of their own.
//
// The Python client reads CSV with the same rules (hubstats/_input.py); tests/input_rules holds
// the cases both run.
//
// Thread-compatible: one reader per stream, used by one thread at a time.
#ifndef HUBSTATS_CLIENT_CLI_CSV_H_
#define HUBSTATS_CLIENT_CLI_CSV_H_

#include <cstdint>
#include <deque>
#include <istream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace hubstats::cli {

// One physical line of input: its number (from 1) and its text without the line break.
struct PhysicalLine {
  int number = 0;
  std::string text;
  int64_t length = 0;  // Bytes of the whole line; text keeps at most the reader's limit.
};

// Reads lines of at most `max_line_bytes` (longer ones are cut there, `length` tells).
class LineReader {
 public:
  LineReader(std::istream& input, size_t max_line_bytes);
  // The next line, false at the end of the input. Strips a UTF-8 byte order mark from line 1.
  bool Next(PhysicalLine& line);

 private:
  std::istream& input_;
  const size_t max_line_bytes_;
  int number_ = 0;
};

struct CsvRecord {
  int line = 0;                    // Where the record starts (or where it went wrong).
  std::vector<std::string> cells;  // Empty when `error` is not OK.
  absl::Status error;              // INVALID_ARGUMENT with the reason: a malformed record.
};

class CsvReader {
 public:
  // Records hold at most `max_record_bytes`; a longer line is a malformed record.
  CsvReader(std::istream& input, size_t max_record_bytes);

  // The next record, false at the end of the input. Blank lines (nothing but whitespace) are
  // skipped.
  bool Next(CsvRecord& record);

 private:
  // Where a record stands after a line: complete, going on (a quoted field holds the line
  // break), or malformed by a stray quote.
  enum class Scan { kComplete, kContinues, kQuoteInUnquotedField, kTextAfterClosingQuote };
  // A record being read: the state of its field and the cells so far.
  struct Partial {
    enum class State { kFieldStart, kUnquoted, kQuoted, kAfterQuote } state = State::kFieldStart;
    std::string cell;
    std::vector<std::string> cells;
  };

  bool NextLine(PhysicalLine& line);
  // Scans one physical line of the record in `partial`.
  static Scan ScanLine(const std::string& text, Partial& partial);
  // Reports the record in `open_` as malformed by `scan`: at its line when it has one; else
  // at its opening line, queueing the lines after that one to be read again.
  void Malformed(Scan scan, CsvRecord& record);
  // Reports the multi-line record in `open_` as malformed at its opening line and queues the
  // lines after that one to be read again.
  void Rescan(CsvRecord& record, const std::string& reason);

  LineReader lines_;
  const size_t max_record_bytes_;
  std::deque<PhysicalLine> pending_;  // Lines to read again before the stream's next.
  std::vector<PhysicalLine> open_;    // Lines of the record being read.
};

}  // namespace hubstats::cli

#endif  // HUBSTATS_CLIENT_CLI_CSV_H_
