// The Redis URL the store dials, with credentials that come from a file or the environment
// instead of the command line (where any local user reads them in /proc/PID/cmdline).
#ifndef HUBSTATS_SERVICE_SECURITY_REDIS_CREDENTIALS_H_
#define HUBSTATS_SERVICE_SECURITY_REDIS_CREDENTIALS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hubstats {

struct RedisCredentials {
  std::string username;  // An ACL user; empty: the URL's, else Redis' `default` user.
  std::string password;  // Empty: the URL's, if any.
};

// `url` (redis://[[user]:password@]host[:port][/db]) with `credentials` put in.
// INVALID_ARGUMENT when the URL is malformed, when it holds a password and another one is
// given, or for a username with ':' or '@'. Messages never hold a password.
absl::StatusOr<std::string> RedisUrlWithCredentials(absl::string_view url,
                                                    const RedisCredentials& credentials);

// True when `url` holds a password.
bool RedisUrlHasPassword(absl::string_view url);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_SECURITY_REDIS_CREDENTIALS_H_
