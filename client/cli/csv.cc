#include "csv.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/command_line.h"

namespace hubstats::cli {

LineReader::LineReader(std::istream& input, size_t max_line_bytes)
    : input_(input), max_line_bytes_(max_line_bytes) {}

bool LineReader::Next(PhysicalLine& line) {
  line.text.clear();
  line.length = 0;
  // Byte by byte through the stream buffer: a line is never held beyond the limit, however
  // long it is in the file.
  std::streambuf* buffer = input_.rdbuf();
  int c = buffer->sbumpc();
  if (c == std::char_traits<char>::eof()) return false;
  line.number = ++number_;
  while (c != std::char_traits<char>::eof() && c != '\n') {
    if (line.text.size() < max_line_bytes_) line.text.push_back(static_cast<char>(c));
    ++line.length;
    c = buffer->sbumpc();
  }
  if (!line.text.empty() && line.text.back() == '\r' &&
      static_cast<int64_t>(line.text.size()) == line.length) {
    line.text.pop_back();
    --line.length;
  }
  if (line.number == 1 && absl::StartsWith(line.text, "\xEF\xBB\xBF")) {
    line.text.erase(0, 3);
    line.length -= 3;
  }
  return true;
}

CsvReader::CsvReader(std::istream& input, size_t max_record_bytes)
    : lines_(input, max_record_bytes), max_record_bytes_(max_record_bytes) {}

bool CsvReader::NextLine(PhysicalLine& line) {
  if (pending_.empty()) return lines_.Next(line);
  line = std::move(pending_.front());
  pending_.pop_front();
  return true;
}

void CsvReader::Rescan(CsvRecord& record, const std::string& reason) {
  record.line = open_.front().number;
  record.cells.clear();
  record.error = absl::InvalidArgumentError(reason);
  for (size_t i = open_.size(); i-- > 1;) pending_.push_front(std::move(open_[i]));
  open_.clear();
}

CsvReader::Scan CsvReader::ScanLine(const std::string& text, Partial& partial) {
  using State = Partial::State;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (partial.state) {
      case State::kFieldStart:
      case State::kUnquoted:
        if (c == ',') {
          partial.cells.push_back(std::move(partial.cell));
          partial.cell.clear();
          partial.state = State::kFieldStart;
        } else if (c == '"' && partial.state == State::kFieldStart) {
          partial.state = State::kQuoted;
        } else if (c == '"') {
          return Scan::kQuoteInUnquotedField;
        } else {
          partial.cell += c;
          partial.state = State::kUnquoted;
        }
        break;
      case State::kQuoted:
        if (c != '"') {
          partial.cell += c;
        } else if (i + 1 < text.size() && text[i + 1] == '"') {
          partial.cell += '"';
          ++i;
        } else {
          partial.state = State::kAfterQuote;
        }
        break;
      case State::kAfterQuote:
        if (c != ',') return Scan::kTextAfterClosingQuote;
        partial.cells.push_back(std::move(partial.cell));
        partial.cell.clear();
        partial.state = State::kFieldStart;
        break;
    }
  }
  if (partial.state == State::kQuoted) {
    partial.cell += '\n';  // The quoted field goes on past the line break.
    return Scan::kContinues;
  }
  partial.cells.push_back(std::move(partial.cell));
  return Scan::kComplete;
}

void CsvReader::Malformed(Scan scan, CsvRecord& record) {
  const bool stray = scan == Scan::kQuoteInUnquotedField;
  const int line = open_.back().number;
  if (open_.size() > 1) {
    Rescan(record, stray ? absl::StrCat("a quoted field opened on this line runs to line ", line,
                                        ", which has a quote inside an unquoted field (a stray "
                                        "quote?)")
                         : absl::StrCat("a quoted field opened on this line is closed on line ",
                                        line, " and followed by more text (a stray quote?)"));
    return;
  }
  record.line = line;
  record.cells.clear();
  record.error = absl::InvalidArgumentError(
      stray ? "a quote inside an unquoted field; quote the whole field and double the quotes "
              "inside it (\"text\"\"gen\")"
            : "text after the closing quote of a field (a quote inside a quoted field is "
              "written twice: \"\")");
}

bool CsvReader::Next(CsvRecord& record) {
  record = CsvRecord();
  while (true) {
    open_.clear();
    PhysicalLine first;
    if (!NextLine(first)) return false;
    if (first.length > static_cast<int64_t>(max_record_bytes_)) {
      record.line = first.number;
      record.error = absl::InvalidArgumentError(
          absl::StrCat("the line is ", client::HumanBytes(first.length), ", more than the ",
                       client::HumanBytes(max_record_bytes_), " one record may hold"));
      return true;
    }
    if (absl::StripAsciiWhitespace(first.text).empty()) continue;  // A blank line.
    int64_t bytes = first.length;
    open_.push_back(std::move(first));
    Partial partial;
    while (true) {
      const Scan scan = ScanLine(open_.back().text, partial);
      if (scan == Scan::kComplete) {
        record.line = open_.front().number;
        record.cells = std::move(partial.cells);
        return true;
      }
      if (scan != Scan::kContinues) {
        Malformed(scan, record);
        return true;
      }
      PhysicalLine next;
      if (!NextLine(next)) {
        Rescan(record, "a quoted field opened on this line is never closed");
        return true;
      }
      bytes += next.length + 1;
      open_.push_back(std::move(next));
      if (bytes > static_cast<int64_t>(max_record_bytes_)) {
        Rescan(record, absl::StrCat("a quoted field opened on this line runs past ",
                                    client::HumanBytes(max_record_bytes_),
                                    " without being closed (a stray quote?)"));
        return true;
      }
    }
  }
}

}  // namespace hubstats::cli
