#include "security/redis_credentials.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "security/files.h"
#include "store/redis_client.h"

namespace hubstats {

bool RedisUrlHasPassword(absl::string_view url) {
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(url);
  return endpoint.ok() && !endpoint->password.empty();
}

absl::StatusOr<RedisCredentials> ServiceRedisCredentials(std::string username,
                                                         const std::string& password_file) {
  RedisCredentials credentials{std::move(username), ""};
  if (!password_file.empty()) {
    absl::StatusOr<std::string> password = ReadSecretFile(password_file);
    if (!password.ok()) return password.status();
    credentials.password = *std::move(password);
  } else if (const char* password = std::getenv("HUBSTATS_REDIS_PASSWORD"); password != nullptr) {
    credentials.password = password;
  }
  return credentials;
}

int HideRedisPasswords(int argc, char** argv) {
  int hidden = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const size_t scheme = arg.find("redis://");
    const size_t at = arg.rfind('@');
    if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme) continue;
    const size_t colon = arg.find(':', scheme + 8);
    if (colon == std::string_view::npos || colon > at) continue;
    std::fill(argv[i] + colon + 1, argv[i] + at, '*');
    ++hidden;
  }
  return hidden;
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
