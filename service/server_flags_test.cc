#include "server_flags.h"

#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

using ::testing::HasSubstr;

// Parses `words` with `environment` as the only variables set.
absl::StatusOr<ServerFlags> ParseWith(std::initializer_list<const char*> words,
                                      std::map<std::string, std::string> environment = {}) {
  std::vector<const char*> argv = {"hubstats-server"};
  argv.insert(argv.end(), words);
  return ServerFlags::Parse(static_cast<int>(argv.size()), argv.data(),
                            [&environment](const char* name) -> const char* {
                              auto it = environment.find(name);
                              return it == environment.end() ? nullptr : it->second.c_str();
                            });
}

TEST(ServerFlagsTest, DefaultsThenEnvironmentThenCommandLine) {
  absl::StatusOr<ServerFlags> defaults = ParseWith({});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->Value("redis-prefix"), "hubstats");
  EXPECT_EQ(defaults->Value("listen"), "127.0.0.1:50051");
  EXPECT_EQ(defaults->Value("max-lateness-days"), "7");  // Issue 14: a week by default.
  EXPECT_EQ(defaults->Value("retention-days"), "400");   // Issue 14: days kept per day.
  EXPECT_EQ(defaults->Value("late-events"), "reject");
  EXPECT_EQ(*defaults->Int("malloc-arenas", 0), 4);  // Issue 11: RSS at Hub scale.

  absl::StatusOr<ServerFlags> from_environment =
      ParseWith({}, {{"HUBSTATS_REDIS_PREFIX", "env"}, {"HUBSTATS_COMMIT_WINDOW_MS", "7"}});
  ASSERT_TRUE(from_environment.ok());
  EXPECT_EQ(from_environment->Value("redis-prefix"), "env");
  EXPECT_EQ(*from_environment->Int("commit-window-ms", 0), 7);
  EXPECT_EQ(from_environment->Default("redis-prefix"), "hubstats");

  absl::StatusOr<ServerFlags> command_line = ParseWith(
      {"--redis-prefix", "cli", "--commit-window-ms=9"}, {{"HUBSTATS_REDIS_PREFIX", "env"}});
  ASSERT_TRUE(command_line.ok());
  EXPECT_EQ(command_line->Value("redis-prefix"), "cli");
  EXPECT_EQ(*command_line->Int("commit-window-ms", 0), 9);
}

TEST(ServerFlagsTest, AnEmptyValueTurnsAnAddressOff) {
  absl::StatusOr<ServerFlags> flags = ParseWith({"--metrics-listen="});
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(flags->Value("metrics-listen"), "");
  EXPECT_EQ(flags->Default("metrics-listen"), "127.0.0.1:9464");
}

TEST(ServerFlagsTest, SwitchesFromTheCommandLineOrTheEnvironment) {
  absl::StatusOr<ServerFlags> defaults = ParseWith({});
  ASSERT_TRUE(defaults.ok());
  EXPECT_FALSE(*defaults->Bool("allow-insecure"));
  EXPECT_TRUE(*defaults->Bool("reflection"));

  absl::StatusOr<ServerFlags> given = ParseWith({"--allow-insecure", "--reflection=false"});
  ASSERT_TRUE(given.ok()) << given.status();
  EXPECT_TRUE(*given->Bool("allow-insecure"));
  EXPECT_FALSE(*given->Bool("reflection"));

  // The command line turns off what the environment turned on.
  absl::StatusOr<ServerFlags> overridden =
      ParseWith({"--allow-insecure=no"}, {{"HUBSTATS_ALLOW_INSECURE", "true"}});
  ASSERT_TRUE(overridden.ok());
  EXPECT_FALSE(*overridden->Bool("allow-insecure"));

  absl::StatusOr<ServerFlags> bad = ParseWith({}, {{"HUBSTATS_PUBLIC_READS", "sometimes"}});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->Bool("public-reads").status().message(),
            "--public-reads must be true or false, got 'sometimes'");
}

TEST(ServerFlagsTest, RefusesWhatIsNotAFlagNamingIt) {
  absl::Status unknown = ParseWith({"--redis-prefx", "x"}).status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.message(), "unknown option --redis-prefx (see --help)");

  EXPECT_EQ(ParseWith({"--listen"}).status().message(), "--listen needs a value (see --help)");
  EXPECT_EQ(ParseWith({"redis"}).status().message(),
            "unexpected argument 'redis' (flags start with --)");
  EXPECT_THAT(std::string(ParseWith({"--reflection=maybe"}).status().message()),
              HasSubstr("--reflection is a switch"));
}

TEST(ServerFlagsTest, NumbersAreCheckedWhenRead) {
  absl::StatusOr<ServerFlags> flags = ParseWith({"--workers", "0", "--shards", "many"});
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(flags->Int("workers", 1).status().message(),
            "--workers must be a whole number >= 1, got '0'");
  EXPECT_EQ(flags->Int("shards", 1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ServerFlagsTest, HelpListsEveryFlagWithItsValue) {
  absl::StatusOr<ServerFlags> flags = ParseWith({"-h"}, {{"HUBSTATS_REDIS_PREFIX", "env"}});
  ASSERT_TRUE(flags.ok());
  EXPECT_TRUE(flags->help());
  const std::string help = flags->HelpText();
  EXPECT_THAT(help, HasSubstr(ServerFlags::kUsage));
  for (const auto& [name, flag] : ServerFlags::Defaults()) {
    EXPECT_THAT(help, HasSubstr(absl::StrCat("  --", name, " "))) << name;
    EXPECT_FALSE(flag.help.empty()) << name;
  }
  EXPECT_THAT(help, HasSubstr("prefix of every Redis key [env]"));
}

}  // namespace
}  // namespace hubstats
