// Output of the CLI: a minimal JSON writer, CSV fields and plain-text tables.
#ifndef HUBSTATS_CLIENT_CLI_OUTPUT_H_
#define HUBSTATS_CLIENT_CLI_OUTPUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace hubstats::cli {

// Builds one JSON document. Keys and values are appended in order; the writer inserts commas.
// Doubles are printed in the shortest form that reads back to the same double.
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(absl::string_view key);
  JsonWriter& String(absl::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  const std::string& text() const { return text_; }

 private:
  void Separate();
  std::string text_;
  bool need_comma_ = false;
};

// Writes `errors` as [{line, reason}, ...].
struct LineError;
void WriteLineErrors(JsonWriter& json, const std::vector<LineError>& errors);

// Shortest round-trip text of a double ("66.66666666666667").
std::string FormatDouble(double value);
// One CSV field (RFC 4180): as is, or in double quotes (quotes doubled) when it holds a comma,
// a quote, a line break or leading/trailing spaces.
std::string CsvField(absl::string_view value);
// 1234567 -> "1,234,567".
std::string GroupThousands(int64_t value);

// A text table: header, rows, right-aligned numeric columns.
class Table {
 public:
  // `right_aligned[i]`: column i holds numbers.
  Table(std::vector<std::string> header, std::vector<bool> right_aligned);
  void AddRow(std::vector<std::string> row);
  std::string Render() const;

 private:
  std::vector<std::string> header_;
  std::vector<bool> right_aligned_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace hubstats::cli

#endif  // HUBSTATS_CLIENT_CLI_OUTPUT_H_
