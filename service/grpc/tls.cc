#include "grpc/tls.h"

#include <arpa/inet.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "security/files.h"

namespace hubstats {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

absl::StatusOr<std::string> ReadPem(const std::string& what, const std::string& path) {
  absl::StatusOr<std::string> pem = ReadWholeFile(path);
  if (!pem.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", pem.status().message()));
  }
  return pem;
}

// No passphrase: an encrypted key is refused instead of prompting on a terminal.
int NoPassphrase(char*, int, int, void*) { return 0; }

std::unique_ptr<BIO, BioFree> BioOf(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The host part of "host:port", "[v6]:port".
std::string HostOf(absl::string_view address) {
  absl::ConsumePrefix(&address, "dns:");
  absl::ConsumePrefix(&address, "ipv4:");
  absl::ConsumePrefix(&address, "ipv6:");
  if (absl::StartsWith(address, "[")) {
    const size_t close = address.find(']');
    return std::string(address.substr(1, close == absl::string_view::npos ? close : close - 1));
  }
  return std::string(address.substr(0, address.rfind(':')));
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const TlsSettings& settings) {
  if (!settings.enabled()) {
    if (!settings.key_file.empty() || settings.mutual()) {
      return absl::InvalidArgumentError(
          "--tls-key and --tls-client-ca need --tls-cert (the server's certificate chain)");
    }
    return grpc::InsecureServerCredentials();
  }
  if (settings.key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert needs --tls-key (the certificate's private key)");
  }
  absl::StatusOr<std::string> chain = ReadPem("--tls-cert", settings.cert_file);
  if (!chain.ok()) return chain.status();
  absl::StatusOr<std::string> key = ReadPem("--tls-key", settings.key_file);
  if (!key.ok()) return key.status();
  std::unique_ptr<X509, X509Free> certificate(
      PEM_read_bio_X509(BioOf(*chain).get(), nullptr, nullptr, nullptr));
  if (certificate == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-cert ", settings.cert_file, ": no PEM certificate in it"));
  }
  std::unique_ptr<EVP_PKEY, KeyFree> private_key(
      PEM_read_bio_PrivateKey(BioOf(*key).get(), nullptr, NoPassphrase, nullptr));
  if (private_key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls-key ", settings.key_file, ": no PEM private key in it (or it is encrypted)"));
  }
  if (X509_check_private_key(certificate.get(), private_key.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("--tls-key ", settings.key_file,
                                                   " is not the key of the certificate in ",
                                                   settings.cert_file));
  }
  if (settings.mutual()) {
    absl::StatusOr<std::string> ca = ReadPem("--tls-client-ca", settings.client_ca_file);
    if (!ca.ok()) return ca.status();
    std::unique_ptr<X509, X509Free> ca_certificate(
        PEM_read_bio_X509(BioOf(*ca).get(), nullptr, nullptr, nullptr));
    if (ca_certificate == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tls-client-ca ", settings.client_ca_file, ": no PEM certificate in it"));
    }
  }
  const auto interval = static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(settings.reload_interval)));
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      settings.key_file, settings.cert_file, settings.client_ca_file, interval);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (settings.mutual()) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

bool IsLoopbackAddress(absl::string_view listen_address) {
  const std::string host = absl::AsciiStrToLower(HostOf(listen_address));
  if (host == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    static const in6_addr kLoopback = IN6ADDR_LOOPBACK_INIT;
    return std::equal(std::begin(v6.s6_addr), std::end(v6.s6_addr), std::begin(kLoopback.s6_addr));
  }
  return false;
}

absl::Status CheckTransport(absl::string_view listen_address, const TlsSettings& settings,
                            bool allow_insecure) {
  if (settings.enabled() || allow_insecure || IsLoopbackAddress(listen_address)) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "refusing to serve plaintext on ", listen_address,
      ", which is not a loopback address: anyone on the network could read the traffic and "
      "its tokens. Give --tls-cert and --tls-key, listen on 127.0.0.1, or pass "
      "--allow-insecure (for a trusted network, or TLS ended by a proxy in front)"));
}

std::string DescribeTransport(absl::string_view listen_address, const TlsSettings& settings) {
  if (!settings.enabled()) {
    return IsLoopbackAddress(listen_address)
               ? "PLAINTEXT (loopback only)"
               : "PLAINTEXT on a network address (--allow-insecure): traffic and tokens can be "
                 "read by anyone on the path";
  }
  std::string text = absl::StrCat(settings.mutual() ? "mutual TLS" : "TLS", " (certificate ",
                                  settings.cert_file, ", key ", settings.key_file);
  if (settings.mutual()) {
    absl::StrAppend(&text, "; clients need a certificate signed by ", settings.client_ca_file);
  }
  absl::StrAppend(&text, "; files reloaded every ",
                  absl::FormatDuration(std::max(absl::Seconds(1), settings.reload_interval)), ")");
  return text;
}

}  // namespace hubstats
