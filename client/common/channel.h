// What every client tool needs of gRPC: the channel it opens to a hubstats server (plaintext
// or TLS, with the caller's bearer token), and the names of status codes for messages.
#ifndef HUBSTATS_CLIENT_COMMON_CHANNEL_H_
#define HUBSTATS_CLIENT_COMMON_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"

namespace hubstats::client {

class CommandLine;

// How a client reaches the server: TLS material and the bearer token. Plaintext without a
// token when left empty.
struct ChannelSecurity {
  bool tls = false;         // TLS, verifying the server with ca_pem (else the system's roots).
  std::string ca_pem;       // CA certificates to verify the server's certificate with.
  std::string cert_pem;     // Client certificate chain, for mutual TLS (with key_pem).
  std::string key_pem;      // Its private key.
  std::string server_name;  // Name the server's certificate must hold; default: the target's host.
  std::string token;        // Bearer token sent with every call; empty: none.
};

// The security options every client tool takes: value options ca-file, cert-file, key-file,
// tls-server-name, token-file; the switch tls. (The token is never an argument: command lines
// are visible to every local user.)
const std::set<std::string>& SecurityValueOptions();
const std::set<std::string>& SecuritySwitches();

// From the options on `line`, each falling back to its environment variable:
//   --tls              $HUBSTATS_TLS (1/true)     TLS with the system's roots
//   --ca-file F        $HUBSTATS_CA_FILE           TLS, verifying the server with F
//   --cert-file F      $HUBSTATS_CERT_FILE         client certificate (mutual TLS) ...
//   --key-file F       $HUBSTATS_KEY_FILE          ... and its key
//   --tls-server-name  $HUBSTATS_TLS_SERVER_NAME   name to check the certificate against
//   --token-file F     $HUBSTATS_TOKEN_FILE        bearer token in a file; else $HUBSTATS_TOKEN
// INVALID_ARGUMENT naming the option (or variable) for a file that cannot be read, a client
// certificate without its key, or an empty token file.
absl::StatusOr<ChannelSecurity> ChannelSecurityFrom(const CommandLine& line);
// The same from the environment alone.
absl::StatusOr<ChannelSecurity> ChannelSecurityFromEnvironment();

// A channel to `target` (host:port or a DNS name) that takes answers up to 64 MiB (a top-N of
// 10,000 rows, a model's per-day series), secured as `security` says. With `own_connection` it
// gets its own TCP connection instead of sharing one with other channels to the same target,
// so load spreads over the server's threads. Thread-safe, like every grpc::Channel.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& target,
                                          const ChannelSecurity& security,
                                          bool own_connection = false);
// The same, secured as the environment says (ChannelSecurityFromEnvironment); for tools
// configured by the environment alone (hubstats-bench). Prints the problem and exits with
// status 2 when the environment names a file that cannot be used.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& target, bool own_connection = false);

// "UNAVAILABLE", "INVALID_ARGUMENT", ...; "UNKNOWN" for numbers outside the enum.
const char* StatusCodeName(grpc::StatusCode code);

}  // namespace hubstats::client

#endif  // HUBSTATS_CLIENT_COMMON_CHANNEL_H_
