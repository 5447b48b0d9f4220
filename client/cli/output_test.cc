#include "output.h"

#include <sstream>

#include "absl/strings/str_join.h"
#include "csv.h"
#include "gtest/gtest.h"

namespace hubstats::cli {
namespace {

TEST(JsonWriterTest, WritesNestedDocuments) {
  JsonWriter json;
  json.BeginObject().Key("a").Int(1).Key("b").BeginArray().String("x\"y\n").Null().Bool(true);
  json.EndArray().Key("c").Double(0.1).EndObject();
  EXPECT_EQ(json.text(), R"({"a":1,"b":["x\"y\n",null,true],"c":0.1})");
}

TEST(JsonWriterTest, DoublesRoundTrip) {
  for (double value : {100.0 / 3.0, 58.1, 1e-7, 100.0, 0.0, 92.48000000000002}) {
    EXPECT_EQ(std::stod(FormatDouble(value)), value) << FormatDouble(value);
  }
  EXPECT_EQ(FormatDouble(100.0), "100.0");
  EXPECT_EQ(FormatDouble(100.0 / 3.0), "33.333333333333336");
}

TEST(OutputTest, GroupsThousands) {
  EXPECT_EQ(GroupThousands(0), "0");
  EXPECT_EQ(GroupThousands(999), "999");
  EXPECT_EQ(GroupThousands(1000), "1,000");
  EXPECT_EQ(GroupThousands(1368390199), "1,368,390,199");
  EXPECT_EQ(GroupThousands(-1234567), "-1,234,567");
}

TEST(OutputTest, CsvFieldsReadBackAsWritten) {
  const std::vector<std::string> fields = {
      "org/model", "", "a,b", "say \"hi\"", "two\nlines", " padded ", "plain text", "\"", ","};
  std::vector<std::string> written;
  for (const std::string& field : fields) written.push_back(CsvField(field));
  EXPECT_EQ(written[0], "org/model");  // Quoted only when it must be.
  EXPECT_EQ(written[3], "\"say \"\"hi\"\"\"");
  std::istringstream input(absl::StrJoin(written, ",") + "\n");
  CsvReader reader(input, 1 << 20);
  CsvRecord record;
  ASSERT_TRUE(reader.Next(record));
  ASSERT_TRUE(record.error.ok()) << record.error;
  EXPECT_EQ(record.cells, fields);
}

TEST(TableTest, AlignsColumns) {
  Table table({"name", "n"}, {false, true});
  table.AddRow({"a", "1,000"});
  table.AddRow({"longer", "5"});
  EXPECT_EQ(table.Render(), "name        n\na       1,000\nlonger      5\n");
}

}  // namespace
}  // namespace hubstats::cli
