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

// The service's Redis credentials: `username` (--redis-user) and the password from
// `password_file` when it is given, else from $HUBSTATS_REDIS_PASSWORD (empty when unset).
// The error of ReadSecretFile (security/files.h), naming the file, when it cannot be read.
absl::StatusOr<RedisCredentials> ServiceRedisCredentials(std::string username,
                                                         const std::string& password_file);

// Overwrites with '*' the password of every redis:// URL among argv[1..argc-1], in place: what
// /proc/PID/cmdline shows every local user. Returns how many it blanked. Call it after the
// arguments were parsed (copied); not thread-safe (it writes argv).
int HideRedisPasswords(int argc, char** argv);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_SECURITY_REDIS_CREDENTIALS_H_
