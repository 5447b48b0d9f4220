// The transport of the gRPC port: TLS (optionally mutual) from certificate files that are
// reloaded while the server runs, or plaintext, which only loopback addresses get unless the
// operator insists.
//
// TLS uses gRPC's FileWatcherCertificateProvider: the key, certificate chain and client CA
// files are read again every `reload_interval`; connections made after a change use the new
// files, established ones keep theirs. Rotate by replacing the key and certificate together
// (a Kubernetes Secret update does; so does writing both to a new folder and swapping a
// symlink): between two separate writes a handshake may see a key that does not match.
#ifndef HUBSTATS_SERVICE_GRPC_TLS_H_
#define HUBSTATS_SERVICE_GRPC_TLS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace hubstats {

struct TlsSettings {
  std::string cert_file;       // PEM certificate chain; empty: plaintext.
  std::string key_file;        // PEM private key of the chain's first certificate.
  std::string client_ca_file;  // PEM CA bundle; set: clients must present a certificate it signed.
  absl::Duration reload_interval = absl::Seconds(10);

  bool enabled() const { return !cert_file.empty(); }
  bool mutual() const { return !client_ca_file.empty(); }
};

// The server credentials for `settings`, after checking that the files can be read, hold PEM
// and that the key belongs to the certificate (so a mistake stops the server at start, not
// every handshake later). INVALID_ARGUMENT naming the file and the problem.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const TlsSettings& settings);

// Whether a listen address ("127.0.0.1:50051", "[::1]:0", "localhost:50051") only accepts
// connections from this host. "0.0.0.0", "[::]", other addresses and names are not.
bool IsLoopbackAddress(absl::string_view listen_address);

// OK when the server may listen on `listen_address` with this transport: TLS anywhere,
// plaintext on loopback, plaintext elsewhere only with `allow_insecure`. FAILED_PRECONDITION
// saying what to do otherwise.
absl::Status CheckTransport(absl::string_view listen_address, const TlsSettings& settings,
                            bool allow_insecure);

// "TLS (certificate cert.pem, reloaded every 10s)", "mutual TLS (...; clients need a
// certificate signed by ca.pem)", "PLAINTEXT (loopback only)", ...: for the start-up log.
std::string DescribeTransport(absl::string_view listen_address, const TlsSettings& settings);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_GRPC_TLS_H_
