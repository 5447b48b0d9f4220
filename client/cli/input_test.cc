// Unit checks of the input module beyond the shared cases (input_rules_test.cc).
#include "input.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats::cli {
namespace {

using ::testing::HasSubstr;

TEST(InputFormatTest, ByOptionThenExtension) {
  EXPECT_EQ(*ChooseFormat("events.csv", ""), InputFormat::kCsv);
  EXPECT_EQ(*ChooseFormat("EVENTS.CSV", ""), InputFormat::kCsv);
  EXPECT_EQ(*ChooseFormat("events.jsonl", ""), InputFormat::kJsonLines);
  EXPECT_EQ(*ChooseFormat("events.ndjson", ""), InputFormat::kJsonLines);
  EXPECT_EQ(*ChooseFormat("events.csv", "jsonl"), InputFormat::kJsonLines);
  EXPECT_EQ(*ChooseFormat("events.txt", "csv"), InputFormat::kCsv);
  EXPECT_THAT(ChooseFormat("events.txt", "").status().message(), HasSubstr("give --format"));
  EXPECT_THAT(ChooseFormat("events.csv", "xml").status().message(),
              HasSubstr("--format must be jsonl or csv"));
}

TEST(InputKeysTest, NamesTheirAliases) {
  EXPECT_EQ(KeysOf(ItemKind::kEvent), "model_id, timestamp, count, revision");
  EXPECT_EQ(KeysOf(ItemKind::kRecord),
            "model_id (or modelId), pipeline_tag, modality, num_parameters, architecture, "
            "library_name (or library)");
}

TEST(TimestampTextTest, StrictRfc3339) {
  EXPECT_EQ(absl::ToUnixSeconds(*ParseTimestampText("2024-09-20T12:00:00Z")), 1726833600);
  EXPECT_EQ(absl::ToUnixNanos(*ParseTimestampText("2024-09-20T12:00:00.123456789+00:00")),
            1726833600123456789);
  EXPECT_EQ(absl::ToUnixSeconds(*ParseTimestampText(" 2024-02-29 ")), 1709164800);
  for (const char* bad : {"2024-09-20T12:00", "2024-09-20T24:00:00Z", "2024-13-01", "2023-02-29",
                          "2024-09-20T12:00:00.Z", "2024-09-20T12:00:00+2:00",
                          "2024-09-20T12:00:00Zjunk", "20240920T120000Z", ""}) {
    EXPECT_FALSE(ParseTimestampText(bad).ok()) << bad;
  }
}

TEST(InputReaderTest, AnEmptyCsvFileHasNoItems) {
  std::istringstream stream("");
  auto reader = InputReader::Open(stream, InputFormat::kCsv, ItemKind::kEvent, 1024);
  ASSERT_TRUE(reader.ok());
  InputItem item;
  EXPECT_FALSE((*reader)->Next(item));
}

}  // namespace
}  // namespace hubstats::cli
