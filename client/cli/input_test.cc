#include "input.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats::cli {
namespace {

using ::testing::HasSubstr;

TEST(EventLineTest, ReadsAllFields) {
  absl::StatusOr<v1::DownloadEvent> event = ParseEventLine(
      R"({"model_id": "org/m", "timestamp": "2024-09-20T12:00:00.5Z", "count": 7, "revision": "main"})");
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->model_id(), "org/m");
  EXPECT_EQ(event->timestamp().seconds(), 1726833600);
  EXPECT_EQ(event->timestamp().nanos(), 500'000'000);
  EXPECT_EQ(event->count(), 7);
  EXPECT_EQ(event->revision(), "main");
}

TEST(EventLineTest, TimestampForms) {
  EXPECT_EQ(ParseEventLine(R"({"model_id":"a","timestamp":1726833600})")->timestamp().seconds(),
            1726833600);
  EXPECT_EQ(ParseEventLine(R"({"model_id":"a","timestamp":"2024-09-20"})")->timestamp().seconds(),
            1726790400);
  EXPECT_EQ(ParseEventLine(R"({"model_id":"a","timestamp":"2024-09-20T14:00:00+02:00"})")
                ->timestamp()
                .seconds(),
            1726833600);
  EXPECT_THAT(ParseEventLine(R"({"model_id":"a","timestamp":"yesterday"})").status().message(),
              HasSubstr("not RFC 3339"));
  EXPECT_THAT(ParseEventLine(R"({"model_id":"a","timestamp":true})").status().message(),
              HasSubstr("timestamp must be"));
}

TEST(EventLineTest, OptionalFieldsStayAbsent) {
  absl::StatusOr<v1::DownloadEvent> event = ParseEventLine(R"({"model_id": "gpt2", "extra": 1})");
  ASSERT_TRUE(event.ok());
  EXPECT_FALSE(event->has_count());
  EXPECT_FALSE(event->has_timestamp());
  // An explicit 0 is sent as such, so the server can refuse it by name.
  EXPECT_TRUE(ParseEventLine(R"({"model_id": "gpt2", "count": 0})")->has_count());
}

TEST(EventLineTest, MalformedLinesExplainThemselves) {
  EXPECT_THAT(ParseEventLine("{not json").status().message(), HasSubstr("not a JSON object"));
  EXPECT_THAT(ParseEventLine(R"({"count": 3})").status().message(),
              HasSubstr("model_id is missing"));
  EXPECT_THAT(ParseEventLine(R"({"model_id": 5})").status().message(),
              HasSubstr("model_id must be a string"));
  EXPECT_THAT(ParseEventLine(R"({"model_id": "a", "count": 1.5})").status().message(),
              HasSubstr("whole number"));
  EXPECT_THAT(ParseEventLine(R"({"model_id": "a", "count": "3"})").status().message(),
              HasSubstr("count must be a number"));
}

TEST(RecordJsonTest, ReadsAllFieldsAndAliases) {
  absl::StatusOr<v1::ModelRecord> record = ParseRecordJson(
      R"({"modelId": "org/m", "pipeline_tag": "fill-mask", "modality": "cv",
          "num_parameters": "1.5B", "architecture": "encoder-decoder", "library": "timm"})");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->model_id(), "org/m");
  EXPECT_EQ(record->modality(), v1::MODALITY_COMPUTER_VISION);
  EXPECT_EQ(record->num_parameters(), 1'500'000'000);
  EXPECT_EQ(record->architecture(), v1::ARCHITECTURE_ENCODER_DECODER);
  EXPECT_EQ(record->library_name(), "timm");
  EXPECT_EQ(ParseRecordJson(R"({"model_id":"a","num_parameters":110000000})")->num_parameters(),
            110'000'000);
  EXPECT_THAT(ParseRecordJson(R"({"model_id":"a","modality":"vision"})").status().message(),
              HasSubstr("not one of nlp"));
  EXPECT_THAT(ParseRecordJson(R"({"model_id":"a","architecture":"rnn"})").status().message(),
              HasSubstr("architecture 'rnn'"));
  EXPECT_THAT(ParseRecordJson(R"({"pipeline_tag":"x"})").status().message(),
              HasSubstr("model_id is missing"));
}

TEST(CsvTest, SplitsQuotedFieldsAcrossLines) {
  CsvSplitter splitter;
  ASSERT_TRUE(splitter.Feed(R"(a,"b, ""c""",d)", 1));
  EXPECT_THAT(splitter.Take().cells, ::testing::ElementsAre("a", "b, \"c\"", "d"));
  EXPECT_FALSE(splitter.Feed(R"(x,"multi)", 2));
  EXPECT_TRUE(splitter.open());
  ASSERT_TRUE(splitter.Feed(R"(line",y)", 3));
  CsvRecord record = splitter.Take();
  EXPECT_EQ(record.line, 2);
  EXPECT_THAT(record.cells, ::testing::ElementsAre("x", "multi\nline", "y"));
  ASSERT_TRUE(splitter.Feed("p,q\r", 4));
  EXPECT_THAT(splitter.Take().cells, ::testing::ElementsAre("p", "q"));
}

TEST(CsvTest, ReadsTheHubSnapshotHeader) {
  absl::StatusOr<RecordCsvReader> reader = RecordCsvReader::FromHeader(
      "modelId,modelName,author,downloads,lastModified,tags,pipeline_tag,sha,private,inference");
  ASSERT_TRUE(reader.ok()) << reader.status();
  CsvSplitter splitter;
  ASSERT_TRUE(splitter.Feed(
      R"(google-bert/bert-base-uncased,bert-base-uncased,google-bert,61903514,2024-02-19,"['transformers', 'fill-mask']",fill-mask,86b5,False,warm)",
      2));
  absl::StatusOr<v1::ModelRecord> record = reader->Parse(splitter.Take().cells);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->model_id(), "google-bert/bert-base-uncased");
  EXPECT_EQ(record->pipeline_tag(), "fill-mask");
  EXPECT_EQ(reader->Parse({"a", "b"}).status().message(), "has 2 cells, the header has 10");
  EXPECT_FALSE(RecordCsvReader::FromHeader("name,pipeline_tag").ok());
}

}  // namespace
}  // namespace hubstats::cli
