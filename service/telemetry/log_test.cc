#include "telemetry/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>
#include <string>

namespace hubstats::telemetry {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr char kTime[] = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z";

TEST(LogTest, TextLineHasTimeLevelComponentMessageAndFields) {
  Logger logger(stderr, LogFormat::kText, "hubstats-server");
  const std::string line = logger.Format(
      LogLevel::kWarning, "store: memory",
      {{"shards", 16}, {"prefix", "hubstats"}, {"reason", "a b=c \"d\""}, {"empty", ""}});
  EXPECT_THAT(line, MatchesRegex(std::string(kTime) +
                                 " WARNING hubstats-server: store: memory "
                                 "shards=16 prefix=hubstats reason=\"a b=c \\\\\"d\\\\\"\" "
                                 "empty=\"\""));
}

TEST(LogTest, TextMessageStaysOnOneLine) {
  Logger logger(stderr, LogFormat::kText, "x");
  EXPECT_THAT(logger.Format(LogLevel::kInfo, "one\ntwo", {}), Not(HasSubstr("\n")));
}

TEST(LogTest, JsonLineEscapesStringsKeepsNumbersAndReplacesBytesThatAreNotUtf8) {
  Logger logger(stderr, LogFormat::kJson, "hubstats-server");
  const std::string line =
      logger.Format(LogLevel::kError, "bad \"input\"\n\t\x01 caf\xc3\xa9 \xff end",
                    {{"events", int64_t{1234567890123}}, {"path", "C:\\x"}});
  EXPECT_THAT(line, MatchesRegex(std::string("\\{\"time\":\"") + kTime +
                                 "\",\"level\":\"error\",\"logger\":\"hubstats-server\",.*"));
  EXPECT_THAT(line,
              HasSubstr("\"msg\":\"bad \\\"input\\\"\\n\\t\\u0001 caf\xc3\xa9 \\ufffd end\""));
  EXPECT_THAT(line, HasSubstr("\"events\":1234567890123,\"path\":\"C:\\\\x\"}"));
}

TEST(LogTest, RedactedSecretsNeverAppearInMessagesOrFields) {
  for (LogFormat format : {LogFormat::kText, LogFormat::kJson}) {
    Logger logger(stderr, format, "hubstats-server");
    logger.Redact("s3cr3t");
    logger.Redact("");  // Ignored: would otherwise match everywhere.
    const std::string line =
        logger.Format(LogLevel::kInfo, "cannot reach redis://:s3cr3t@redis:6379 (s3cr3ts3cr3t)",
                      {{"url", "redis://user:s3cr3t@h"}});
    EXPECT_THAT(line, Not(HasSubstr("s3cr3t")));
    EXPECT_THAT(line, HasSubstr("redis://:***@redis:6379 (******)"));
  }
}

TEST(LogTest, WritesWholeLinesToItsFile) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  Logger logger(file, LogFormat::kText, "c");
  logger.Log(LogLevel::kInfo, "first");
  logger.Log(LogLevel::kError, "second", {{"n", 2}});
  std::rewind(file);
  char buffer[512];
  const size_t size = std::fread(buffer, 1, sizeof(buffer), file);
  std::fclose(file);
  const std::string text(buffer, size);
  EXPECT_THAT(text, MatchesRegex(std::string(kTime) + " INFO c: first\n" + kTime +
                                 " ERROR c: second n=2\n"));
}

TEST(LogTest, ParsesFormatNames) {
  EXPECT_EQ(ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat("JSON"), std::nullopt);
}

}  // namespace
}  // namespace hubstats::telemetry
