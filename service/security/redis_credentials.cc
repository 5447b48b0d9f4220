#include "security/redis_credentials.h"

#include "absl/strings/str_cat.h"
#include "store/redis_client.h"

namespace hubstats {

bool RedisUrlHasPassword(absl::string_view url) {
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(url);
  return endpoint.ok() && !endpoint->password.empty();
}

absl::StatusOr<std::string> RedisUrlWithCredentials(absl::string_view url,
                                                    const RedisCredentials& credentials) {
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(url);
  if (!endpoint.ok()) return endpoint.status();
  if (credentials.username.empty() && credentials.password.empty()) return std::string(url);
  if (!credentials.password.empty() && !endpoint->password.empty()) {
    return absl::InvalidArgumentError(
        "the Redis password is given twice: in the URL and in a file or the environment; "
        "keep only the one outside the URL");
  }
  if (credentials.username.find_first_of(":@/") != std::string::npos) {
    return absl::InvalidArgumentError("the Redis username must not hold ':', '@' or '/'");
  }
  const std::string& username =
      credentials.username.empty() ? endpoint->username : credentials.username;
  const std::string& password =
      credentials.password.empty() ? endpoint->password : credentials.password;
  if (password.empty()) {
    return absl::InvalidArgumentError(
        "a Redis username needs a password (from the URL, a file or the environment)");
  }
  // ParseRedisUrl takes everything after the first ':' and before the last '@' as the
  // password, so any password survives the round trip.
  return absl::StrCat("redis://", username, ":", password, "@", endpoint->host, ":", endpoint->port,
                      "/", endpoint->db);
}

}  // namespace hubstats
