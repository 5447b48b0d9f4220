// The server the hostile-input suite attacks: a hubstats-server process backed by a real
// redis-server, with TLS (throwaway certificates from tests/support/make_test_certs.sh) and a
// token file, and channels to it as each kind of client.
#ifndef HUBSTATS_TESTS_HOSTILE_HOSTILE_SERVER_H_
#define HUBSTATS_TESTS_HOSTILE_HOSTILE_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "common/channel.h"
#include "redis_server.h"

namespace hubstats::test_support {

// The tokens of the file every HostileServer gets (their values are what clients send).
struct TestTokens {
  static constexpr char kWriter[] = "writer-9c1f6e0d2b7a4e85";     // ingest, producers job-a-
  static constexpr char kOtherWriter[] = "writer-b-51d0a2ce77f3";  // ingest, producers job-b-
  static constexpr char kReader[] = "reader-3e8b05f1c49d6a27";     // read
  static constexpr char kOps[] = "ops-7a40d9e2f1c85b36";           // ingest, read, admin
  static constexpr char kSlow[] = "slow-0f2e9d8c7b6a5d4c";         // ingest, rate=50000
};

struct HostileServerOptions {
  bool tls = true;
  bool mutual_tls = false;
  bool tokens = true;
  bool public_reads = false;
  std::vector<std::string> args;  // More flags.
};

class HostileServer {
 public:
  // Starts the server; returns once its health says SERVING (its read model loaded), or after
  // 30 s.
  explicit HostileServer(HostileServerOptions options = {});
  ~HostileServer();

  // A channel as a client holding `token` ("" for none), over TLS when the server has it (with
  // the test client certificate when it wants one).
  std::shared_ptr<grpc::Channel> Channel(const std::string& token = "") const;
  // The same with explicit security (wrong CAs, no certificate, plaintext to a TLS port...).
  std::shared_ptr<grpc::Channel> Channel(const client::ChannelSecurity& security) const;
  // TLS settings of a well-configured client, without a token.
  client::ChannelSecurity ClientSecurity() const;

  // A file of the throwaway TLS material ("ca.pem", "other-server.key", ...).
  std::string CertFile(const std::string& name) const;
  std::string ReadCert(const std::string& name) const;
  const std::string& tokens_path() const { return tokens_path_; }
  // What the server logged so far.
  std::string Log() const;

  ServerProcess& process() { return *server_; }
  pid_t pid() const { return server_->process().pid(); }
  RedisServer& redis() { return redis_; }
  const std::string& target() const { return target_; }

 private:
  HostileServerOptions options_;
  std::string directory_;
  std::string tokens_path_;
  std::string log_path_;
  RedisServer redis_;
  std::unique_ptr<ServerProcess> server_;
  std::string target_;
};

// The line of a token file for `token`.
std::string TokenLine(const std::string& name, const std::string& scopes, const std::string& token,
                      const std::string& options = "");

// grpc.health.v1.Health/Check of the whole server on `channel`: its status (1 SERVING,
// 2 NOT_SERVING), or -1 when the call failed (`status` says why).
int HealthOf(const std::shared_ptr<grpc::Channel>& channel, grpc::Status* status = nullptr);

// The hubstats-server binary under test ($HUBSTATS_SERVER_BIN, else the build's).
const std::string& ServerBinary();

}  // namespace hubstats::test_support

#endif  // HUBSTATS_TESTS_HOSTILE_HOSTILE_SERVER_H_
