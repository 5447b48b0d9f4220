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

    enum class State { kFieldStart, kUnquoted, kQuoted, kAfterQuote };
    State state = State::kFieldStart;
    std::string cell;
    while (true) {
      const PhysicalLine& line = open_.back();
      const std::string& text = line.text;
      for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        switch (state) {
          case State::kFieldStart:
            if (c == '"') {
              state = State::kQuoted;
            } else if (c == ',') {
              record.cells.push_back(std::move(cell));
              cell.clear();
            } else {
              cell += c;
              state = State::kUnquoted;
            }
            break;
          case State::kUnquoted:
            if (c == ',') {
              record.cells.push_back(std::move(cell));
              cell.clear();
              state = State::kFieldStart;
            } else if (c == '"') {
              if (open_.size() > 1) {
                Rescan(record,
                       absl::StrCat("a quoted field opened on this line runs to line ", line.number,
                                    ", which has a quote inside an unquoted field "
                                    "(a stray quote?)"));
              } else {
                record.line = line.number;
                record.cells.clear();
                record.error = absl::InvalidArgumentError(
                    "a quote inside an unquoted field; quote the whole field and double the "
                    "quotes inside it (\"text\"\"gen\")");
              }
              return true;
            } else {
              cell += c;
            }
            break;
          case State::kQuoted:
            if (c != '"') {
              cell += c;
            } else if (i + 1 < text.size() && text[i + 1] == '"') {
              cell += '"';
              ++i;
            } else {
              state = State::kAfterQuote;
            }
            break;
          case State::kAfterQuote:
            if (c == ',') {
              record.cells.push_back(std::move(cell));
              cell.clear();
              state = State::kFieldStart;
              break;
            }
            if (open_.size() > 1) {
              Rescan(record,
                     absl::StrCat("a quoted field opened on this line is closed on line ",
                                  line.number, " and followed by more text (a stray quote?)"));
            } else {
              record.line = line.number;
              record.cells.clear();
              record.error = absl::InvalidArgumentError(
                  "text after the closing quote of a field (a quote inside a quoted field is "
                  "written twice: \"\")");
            }
            return true;
        }
      }
      if (state != State::kQuoted) {
        record.cells.push_back(std::move(cell));
        record.line = open_.front().number;
        return true;
      }
      // The quoted field goes on past the line break.
      cell += '\n';
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
