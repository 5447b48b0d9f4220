#include "security/redis_credentials.h"

#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/redis_client.h"

namespace hubstats {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(RedisCredentialsTest, ThePasswordComesFromTheFileElseTheEnvironment) {
  char path[] = "/tmp/hubstats-password-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "from-file\n", 10), 10);
  close(fd);
  setenv("HUBSTATS_REDIS_PASSWORD", "from-env", 1);
  absl::StatusOr<RedisCredentials> from_file = ServiceRedisCredentials("hubstats", path);
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->username, "hubstats");
  EXPECT_EQ(from_file->password, "from-file");
  EXPECT_EQ(ServiceRedisCredentials("", "")->password, "from-env");
  unsetenv("HUBSTATS_REDIS_PASSWORD");
  EXPECT_EQ(ServiceRedisCredentials("", "")->password, "");
  unlink(path);
  const absl::StatusOr<RedisCredentials> missing = ServiceRedisCredentials("u", path);
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr(path));
}

TEST(RedisCredentialsTest, PasswordsInArgumentsAreBlankedInPlace) {
  std::string program = "hubstats-server", flag = "--redis",
              url = "redis://user:s3cr:et@host:6379/0", other = "--redis-prefix=redis://x@y",
              plain = "redis://host:6379";
  std::vector<char*> argv = {program.data(), flag.data(), url.data(), other.data(), plain.data()};
  EXPECT_EQ(HideRedisPasswords(static_cast<int>(argv.size()), argv.data()), 1);
  EXPECT_STREQ(argv[2], "redis://user:*******@host:6379/0");
  EXPECT_STREQ(argv[3], "--redis-prefix=redis://x@y");  // No password in it.
  EXPECT_STREQ(argv[4], "redis://host:6379");
}

TEST(RedisCredentialsTest, PutsThePasswordAndUserIntoTheUrl) {
  absl::StatusOr<std::string> url =
      RedisUrlWithCredentials("redis://redis.internal:6380/2", {"hubstats", "p@ss:w/rd"});
  ASSERT_TRUE(url.ok()) << url.status();
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(*url);
  ASSERT_TRUE(endpoint.ok());
  EXPECT_EQ(endpoint->host, "redis.internal");
  EXPECT_EQ(endpoint->port, 6380);
  EXPECT_EQ(endpoint->db, 2);
  EXPECT_EQ(endpoint->username, "hubstats");
  EXPECT_EQ(endpoint->password, "p@ss:w/rd");
  EXPECT_TRUE(RedisUrlHasPassword(*url));
  EXPECT_FALSE(RedisUrlHasPassword("redis://redis.internal:6380/2"));
}

TEST(RedisCredentialsTest, KeepsTheUrlsOwnWhenNothingIsGiven) {
  EXPECT_EQ(*RedisUrlWithCredentials("redis://:pw@h:1", {}), "redis://:pw@h:1");
  // A user for the URL's password.
  absl::StatusOr<std::string> url = RedisUrlWithCredentials("redis://:pw@h:1", {"acl-user", ""});
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(ParseRedisUrl(*url)->username, "acl-user");
  EXPECT_EQ(ParseRedisUrl(*url)->password, "pw");
}

TEST(RedisCredentialsTest, RefusesConflictsWithoutShowingThePassword) {
  for (const auto& [url, credentials, message] :
       std::vector<std::tuple<std::string, RedisCredentials, std::string>>{
           {"redis://:s3cr3t@h:1", {"", "other"}, "given twice"},
           {"redis://h:1", {"us:er", "s3cr3t"}, "must not hold"},
           {"redis://h:1", {"user", ""}, "needs a password"},
           {"http://h:1", {"", "s3cr3t"}, "must start with redis://"}}) {
    absl::StatusOr<std::string> result = RedisUrlWithCredentials(url, credentials);
    ASSERT_FALSE(result.ok()) << url;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(result.status().message(), HasSubstr(message));
    EXPECT_THAT(result.status().message(), Not(HasSubstr("s3cr3t")));
  }
}

}  // namespace
}  // namespace hubstats
