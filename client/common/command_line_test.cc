#include "common/command_line.h"

#include <initializer_list>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

const CommandLineSpec kSpec = {.value_options = {"target", "n", "rate", "retry-for"},
                               .switches = {"json"}};

absl::StatusOr<CommandLine> ParseWords(std::initializer_list<const char*> words) {
  std::vector<const char*> argv = {"tool"};
  argv.insert(argv.end(), words);
  return CommandLine::Parse(static_cast<int>(argv.size()), argv.data(), kSpec);
}

TEST(CommandLineTest, OptionsMayStandAnywhere) {
  absl::StatusOr<CommandLine> line =
      ParseWords({"--target", "a:1", "top", "--json", "--n=5", "extra"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_THAT(line->words(), ElementsAre("top", "extra"));
  EXPECT_THAT(line->values(), ElementsAre(Pair("n", "5"), Pair("target", "a:1")));
  EXPECT_TRUE(line->Has("json"));
  EXPECT_TRUE(line->Has("n"));
  EXPECT_FALSE(line->Has("rate"));
  EXPECT_FALSE(line->help());
}

TEST(CommandLineTest, LaterOccurrenceWins) {
  absl::StatusOr<CommandLine> line = ParseWords({"--n", "1", "--n", "2"});
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(line->Value("n"), "2");
}

TEST(CommandLineTest, HelpIsSeenAnywhere) {
  absl::StatusOr<CommandLine> line = ParseWords({"top", "-h"});
  ASSERT_TRUE(line.ok());
  EXPECT_TRUE(line->help());
}

TEST(CommandLineTest, RejectsUnknownOptions) {
  absl::StatusOr<CommandLine> line = ParseWords({"top", "--nn", "5"});
  EXPECT_EQ(line.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(line.status().message(), "unknown option --nn");
}

TEST(CommandLineTest, RejectsAMissingValue) {
  EXPECT_EQ(ParseWords({"top", "--n"}).status().message(), "--n needs a value");
  // The next option is not taken as the value.
  EXPECT_EQ(ParseWords({"--target", "--json", "top"}).status().message(), "--target needs a value");
  // An explicit empty value is a value.
  absl::StatusOr<CommandLine> line = ParseWords({"--target=", "top"});
  ASSERT_TRUE(line.ok());
  EXPECT_TRUE(line->Has("target"));
  EXPECT_EQ(line->Value("target", "fallback"), "");
}

TEST(CommandLineTest, SwitchesTakeTrueOrFalse) {
  absl::StatusOr<CommandLine> absent = ParseWords({"top"});
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(absent->Switch("json"), std::nullopt);
  for (const char* on : {"--json", "--json=true", "--json=YES", "--json=on", "--json=1"}) {
    absl::StatusOr<CommandLine> line = ParseWords({on});
    ASSERT_TRUE(line.ok()) << on;
    EXPECT_TRUE(line->Has("json")) << on;
    EXPECT_EQ(line->Switch("json"), true) << on;
  }
  for (const char* off : {"--json=false", "--json=no", "--json=Off", "--json=0"}) {
    absl::StatusOr<CommandLine> line = ParseWords({"--json", off});
    ASSERT_TRUE(line.ok()) << off;
    EXPECT_FALSE(line->Has("json")) << off;
    EXPECT_EQ(line->Switch("json"), false) << off;
  }
}

TEST(CommandLineTest, RejectsAValueForASwitchThatIsNotTrueOrFalse) {
  absl::Status status = ParseWords({"--json=maybe"}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "--json is a switch: --json or --json=true|false, got 'maybe'");
  // A switch never takes the next word as its value.
  absl::StatusOr<CommandLine> line = ParseWords({"--json", "false"});
  ASSERT_TRUE(line.ok());
  EXPECT_TRUE(line->Has("json"));
  EXPECT_THAT(line->words(), ElementsAre("false"));
}

TEST(CommandLineTest, TypedValuesWithFallbacksAndMinimums) {
  absl::StatusOr<CommandLine> line =
      ParseWords({"--n", "7", "--rate", "2.5", "--retry-for", "1m30s"});
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(*line->Int("n", 1, 1), 7);
  EXPECT_EQ(*line->Int("connections", 4, 1), 4);  // Not given: the fallback.
  EXPECT_EQ(*line->Double("rate", 0, 0), 2.5);
  EXPECT_EQ(*line->Duration("retry-for", absl::Minutes(5), absl::ZeroDuration()),
            absl::Seconds(90));
  EXPECT_EQ(*line->Duration("duration", absl::Seconds(20), absl::Seconds(1)), absl::Seconds(20));

  absl::Status below = line->Int("n", 1, 10).status();
  EXPECT_EQ(below.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(below.message(), "--n must be a whole number >= 10, got '7'");
  EXPECT_THAT(line->Double("rate", 0, 3).status().message(), HasSubstr("--rate must be a number"));
}

TEST(CommandLineTest, RejectsMalformedNumbersAndDurations) {
  absl::StatusOr<CommandLine> line =
      ParseWords({"--n", "5x", "--rate", "nan", "--retry-for", "5 minutes"});
  ASSERT_TRUE(line.ok());
  EXPECT_THAT(line->Int("n", 1, 1).status().message(), HasSubstr("got '5x'"));
  EXPECT_THAT(line->Double("rate", 0, 0).status().message(), HasSubstr("got 'nan'"));
  EXPECT_THAT(
      line->Duration("retry-for", absl::Minutes(5), absl::ZeroDuration()).status().message(),
      HasSubstr("--retry-for must be a duration of at least 0"));
  absl::StatusOr<CommandLine> zero = ParseWords({"--retry-for", "0s"});
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(*zero->Duration("retry-for", absl::Minutes(5), absl::ZeroDuration()),
            absl::ZeroDuration());
  absl::Status below =
      zero->Duration("retry-for", absl::Minutes(5), absl::Milliseconds(1)).status();
  EXPECT_EQ(below.message(),
            "--retry-for must be a duration of at least 1ms (e.g. 250ms, 30s, 5m, 1h30m, or "
            "seconds), got '0s'");
}

TEST(ParseDurationTest, TakesAbslDurationsAndPlainSeconds) {
  EXPECT_EQ(*ParseDuration("300"), absl::Seconds(300));
  EXPECT_EQ(*ParseDuration("250ms"), absl::Milliseconds(250));
  EXPECT_EQ(*ParseDuration("5m"), absl::Minutes(5));
  EXPECT_EQ(*ParseDuration("1h30m"), absl::Minutes(90));
  EXPECT_FALSE(ParseDuration("soon").ok());
  EXPECT_FALSE(ParseDuration("-5s").ok());
  EXPECT_FALSE(ParseDuration("inf").ok());
  EXPECT_EQ(*ParseDuration("0"), absl::ZeroDuration());
}

TEST(ByteSizeTest, ParsesAndPrints) {
  EXPECT_EQ(*ParseByteSize("4MiB"), 4 << 20);
  EXPECT_EQ(*ParseByteSize("4M"), 4 << 20);
  EXPECT_EQ(*ParseByteSize("512KiB"), 512 << 10);
  EXPECT_EQ(*ParseByteSize("1048576"), 1 << 20);
  EXPECT_EQ(*ParseByteSize("100B"), 100);
  EXPECT_FALSE(ParseByteSize("4GB").ok());
  EXPECT_FALSE(ParseByteSize("-1").ok());
  EXPECT_FALSE(ParseByteSize("MiB").ok());
  EXPECT_EQ(HumanBytes(4 << 20), "4 MiB");
  EXPECT_EQ(HumanBytes(3 << 19), "1.5 MiB");
  EXPECT_EQ(HumanBytes(512 << 10), "512 KiB");
  EXPECT_EQ(HumanBytes(900), "900 bytes");
  absl::StatusOr<CommandLine> line = ParseWords({"--rate", "2KiB"});
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(*line->Bytes("rate", 0, 1024, 4096), 2048);
  EXPECT_THAT(line->Bytes("rate", 0, 4096, 8192).status().message(),
              HasSubstr("--rate must be a size from 4 KiB to 8 KiB"));
}

TEST(HumanDurationTest, PrintsWhatPeopleRead) {
  EXPECT_EQ(HumanDuration(absl::Milliseconds(1184.3400425)), "1.2s");
  EXPECT_EQ(HumanDuration(absl::Milliseconds(850)), "850ms");
  EXPECT_EQ(HumanDuration(absl::Microseconds(99'600)), "100ms");
  EXPECT_EQ(HumanDuration(absl::Seconds(2)), "2s");
  EXPECT_EQ(HumanDuration(absl::Seconds(42.4)), "42s");
  EXPECT_EQ(HumanDuration(absl::Minutes(5)), "5m");
  EXPECT_EQ(HumanDuration(absl::Seconds(330)), "5m30s");
  EXPECT_EQ(HumanDuration(absl::Minutes(90)), "1h30m");
  EXPECT_EQ(HumanDuration(absl::Hours(2)), "2h");
  EXPECT_EQ(HumanDuration(absl::ZeroDuration()), "0ms");
  // Every printed form reads back.
  for (absl::Duration duration : {absl::Milliseconds(850), absl::Seconds(330), absl::Minutes(90)}) {
    EXPECT_EQ(*ParseDuration(HumanDuration(duration)), duration);
  }
}

}  // namespace
}  // namespace hubstats::client
