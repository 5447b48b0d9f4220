// EdgeSecurity: what guards the gRPC port, built from the server's settings and kept for the
// server's life: the transport (TLS or plaintext, see tls.h), the access policy with its
// tokens (reloaded from their file while the server runs), and the CallGuard the handlers
// admit calls with.
//
// Thread-safe after Create. Must outlive the gRPC server and the services using guard().
#ifndef HUBSTATS_SERVICE_GRPC_EDGE_SECURITY_H_
#define HUBSTATS_SERVICE_GRPC_EDGE_SECURITY_H_

#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/security/server_credentials.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpc/call_guard.h"
#include "grpc/tls.h"
#include "security/access_policy.h"
#include "security/files.h"

namespace hubstats {

struct EdgeSecuritySettings {
  std::string listen;  // The gRPC port's address.
  TlsSettings tls;
  bool allow_insecure = false;  // Plaintext on a non-loopback address.
  std::string tokens_file;      // Empty: tokens off.
  absl::Duration tokens_reload_interval = absl::Seconds(5);
  bool public_reads = false;  // Queries without a token (tokens on only).
  CallLimits limits;
};

class EdgeSecurity {
 public:
  // FAILED_PRECONDITION for plaintext on a network address without allow_insecure;
  // INVALID_ARGUMENT for unusable TLS files, a token file that does not parse, or
  // public_reads without tokens. `log` receives reloads and reload failures later, from the
  // watcher's thread.
  static absl::StatusOr<std::unique_ptr<EdgeSecurity>> Create(
      EdgeSecuritySettings settings, std::function<void(const std::string&)> log);

  const std::shared_ptr<grpc::ServerCredentials>& credentials() const { return credentials_; }
  CallGuard& guard() { return *guard_; }
  // Lines for the start-up log: transport, tokens, limits.
  std::vector<std::string> Describe() const;

 private:
  EdgeSecurity() = default;

  EdgeSecuritySettings settings_;
  std::shared_ptr<grpc::ServerCredentials> credentials_;
  std::unique_ptr<AccessPolicy> policy_;
  std::unique_ptr<CallGuard> guard_;
  std::unique_ptr<FileWatcher> tokens_watcher_;  // Destroyed first: it updates policy_.
};

// A ServerBuilder option that drops gRPC server reflection. Linking grpc++_reflection turns
// reflection on for every server, from a static initializer; this takes it off again.
std::unique_ptr<grpc::ServerBuilderOption> WithoutReflection();

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_GRPC_EDGE_SECURITY_H_
