#include "csv.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Every record of `text` as "line: cell|cell|..." or "line: error: <message>".
std::vector<std::string> Read(const std::string& text, size_t limit = 1 << 20) {
  std::istringstream stream(text);
  CsvReader reader(stream, limit);
  std::vector<std::string> records;
  CsvRecord record;
  while (reader.Next(record)) {
    std::string line = std::to_string(record.line) + ": ";
    if (!record.error.ok()) {
      line += "error: " + std::string(record.error.message());
    } else {
      for (size_t i = 0; i < record.cells.size(); ++i) line += (i ? "|" : "") + record.cells[i];
    }
    records.push_back(line);
  }
  return records;
}

TEST(CsvReaderTest, ReadsRfc4180) {
  EXPECT_THAT(Read("a,\"b, \"\"c\"\"\",d\nx,\"multi\nline\",y\r\np,q\r\n\n,\n"),
              ElementsAre("1: a|b, \"c\"|d", "2: x|multi\nline|y", "4: p|q", "6: |"));
  EXPECT_THAT(Read("last,line,without,break"), ElementsAre("1: last|line|without|break"));
  EXPECT_THAT(Read(""), ElementsAre());
}

TEST(CsvReaderTest, AStrayQuoteCostsOneLine) {
  std::vector<std::string> records = Read("a,1\nb,te\"xt\nc,3\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0], "1: a|1");
  EXPECT_THAT(records[1], HasSubstr("2: error: a quote inside an unquoted field"));
  EXPECT_EQ(records[2], "3: c|3");
}

TEST(CsvReaderTest, AnUnclosedQuoteIsReportedWhereItOpensAndTheRestIsReadAgain) {
  std::vector<std::string> records = Read("a,1\nb,\"2\nc,3\nd,4\n");
  EXPECT_THAT(records,
              ElementsAre("1: a|1", "2: error: a quoted field opened on this line is never closed",
                          "3: c|3", "4: d|4"));
  // Closed by a later quote with text after it: the same.
  records = Read("b,\"2\nc,3\nd,\"4\"x\ne,5\n");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_THAT(records[0], HasSubstr("1: error: a quoted field opened on this line is closed on "
                                    "line 3 and followed by more text"));
  EXPECT_EQ(records[1], "2: c|3");
  EXPECT_THAT(records[2], HasSubstr("3: error: text after the closing quote"));
  EXPECT_EQ(records[3], "4: e|5");
}

TEST(CsvReaderTest, RecordsAndLinesHaveALimit) {
  // A line over the limit is one malformed record; the next line is read as usual.
  std::vector<std::string> records = Read("a,1\n" + std::string(100, 'x') + "\nb,2\n", 32);
  EXPECT_THAT(records[1], HasSubstr("2: error: the line is 100 bytes, more than the 32 bytes"));
  EXPECT_EQ(records[2], "3: b|2");
  // A quoted field running past the limit is taken for an unclosed quote.
  records = Read("a,\"1\n" + std::string(20, 'y') + "\n" + std::string(20, 'z') + "\nb,2\n", 32);
  EXPECT_THAT(records,
              ElementsAre(HasSubstr("1: error: a quoted field opened on this line runs "
                                    "past 32 bytes"),
                          "2: " + std::string(20, 'y'), "3: " + std::string(20, 'z'), "4: b|2"));
}

TEST(LineReaderTest, CutsLongLinesAndKeepsTheirLength) {
  std::istringstream stream("\xEF\xBB\xBFshort\r\n" + std::string(50, 'x') + "\nend");
  LineReader lines(stream, 10);
  PhysicalLine line;
  ASSERT_TRUE(lines.Next(line));
  EXPECT_EQ(line.text, "short");
  EXPECT_EQ(line.number, 1);
  ASSERT_TRUE(lines.Next(line));
  EXPECT_EQ(line.text, std::string(10, 'x'));
  EXPECT_EQ(line.length, 50);
  ASSERT_TRUE(lines.Next(line));
  EXPECT_EQ(line.text, "end");
  EXPECT_EQ(line.number, 3);
  EXPECT_FALSE(lines.Next(line));
}

}  // namespace
}  // namespace hubstats::cli
