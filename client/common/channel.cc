#include "common/channel.h"

#include <grpcpp/support/client_interceptor.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/command_line.h"

namespace hubstats::client {
namespace {

// Adds the bearer token to every call's metadata. Call credentials would do the same but gRPC
// refuses them on plaintext channels, which loopback servers use.
class BearerToken final : public grpc::experimental::Interceptor {
 public:
  explicit BearerToken(const std::string& value) : value_(value) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({"authorization", value_});
    }
    methods->Proceed();
  }

 private:
  const std::string& value_;
};

class BearerTokenFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerTokenFactory(const std::string& token) : value_("Bearer " + token) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* /*info*/) override {
    return new BearerToken(value_);
  }

 private:
  const std::string value_;  // Lives as long as the channel that owns the factory.
};

// An option's value, else its environment variable's; `source` says which it was.
std::string Setting(const CommandLine* line, const std::string& option, const char* variable,
                    std::string* source) {
  if (line != nullptr && line->Has(option)) {
    *source = "--" + option;
    return line->Value(option);
  }
  *source = variable;
  const char* value = std::getenv(variable);
  return value == nullptr ? "" : value;
}

absl::StatusOr<std::string> ReadFile(const std::string& source, const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::InvalidArgumentError(absl::StrCat(source, ": cannot read ", path));
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

absl::StatusOr<ChannelSecurity> SecurityFrom(const CommandLine* line) {
  ChannelSecurity security;
  std::string source;
  const std::string tls = absl::AsciiStrToLower(Setting(line, "tls", "HUBSTATS_TLS", &source));
  security.tls =
      line != nullptr && line->Has("tls") ? true : (tls == "1" || tls == "true" || tls == "yes");
  struct File {
    const char* option;
    const char* variable;
    std::string* into;
  };
  for (const File& file : {File{"ca-file", "HUBSTATS_CA_FILE", &security.ca_pem},
                           File{"cert-file", "HUBSTATS_CERT_FILE", &security.cert_pem},
                           File{"key-file", "HUBSTATS_KEY_FILE", &security.key_pem}}) {
    const std::string path = Setting(line, file.option, file.variable, &source);
    if (path.empty()) continue;
    absl::StatusOr<std::string> pem = ReadFile(source, path);
    if (!pem.ok()) return pem.status();
    *file.into = *std::move(pem);
    security.tls = true;
  }
  if (security.cert_pem.empty() != security.key_pem.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate needs its key: give both --cert-file and --key-file "
        "($HUBSTATS_CERT_FILE, $HUBSTATS_KEY_FILE)");
  }
  security.server_name = Setting(line, "tls-server-name", "HUBSTATS_TLS_SERVER_NAME", &source);
  const std::string token_file = Setting(line, "token-file", "HUBSTATS_TOKEN_FILE", &source);
  if (!token_file.empty()) {
    absl::StatusOr<std::string> token = ReadFile(source, token_file);
    if (!token.ok()) return token.status();
    security.token = std::string(absl::StripAsciiWhitespace(*token));
    if (security.token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": ", token_file, " is empty"));
    }
  } else if (const char* token = std::getenv("HUBSTATS_TOKEN"); token != nullptr) {
    security.token = std::string(absl::StripAsciiWhitespace(token));
  }
  return security;
}

}  // namespace

const std::set<std::string>& SecurityValueOptions() {
  static const std::set<std::string> kOptions = {"ca-file", "cert-file", "key-file",
                                                 "tls-server-name", "token-file"};
  return kOptions;
}

const std::set<std::string>& SecuritySwitches() {
  static const std::set<std::string> kSwitches = {"tls"};
  return kSwitches;
}

absl::StatusOr<ChannelSecurity> ChannelSecurityFrom(const CommandLine& line) {
  return SecurityFrom(&line);
}

absl::StatusOr<ChannelSecurity> ChannelSecurityFromEnvironment() { return SecurityFrom(nullptr); }

std::shared_ptr<grpc::Channel> NewChannel(const std::string& target,
                                          const ChannelSecurity& security, bool own_connection) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(64 << 20);
  if (own_connection) arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Keepalive as docs/OPERATIONS.md ("Keepalive") agrees it with the server: a ping after 30 s
  // without data finds a dead server or dropped proxy connection within 40 s, also while an
  // ingest stream waits for answers; the server accepts pings every 10 s or slower.
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  arguments.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (security.tls) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = security.ca_pem;
    options.pem_cert_chain = security.cert_pem;
    options.pem_private_key = security.key_pem;
    credentials = grpc::SslCredentials(options);
    if (!security.server_name.empty()) arguments.SetSslTargetNameOverride(security.server_name);
  }
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  if (!security.token.empty()) {
    interceptors.push_back(std::make_unique<BearerTokenFactory>(security.token));
  }
  return grpc::experimental::CreateCustomChannelWithInterceptors(target, credentials, arguments,
                                                                 std::move(interceptors));
}

std::shared_ptr<grpc::Channel> NewChannel(const std::string& target, bool own_connection) {
  absl::StatusOr<ChannelSecurity> security = ChannelSecurityFromEnvironment();
  if (!security.ok()) {
    std::fprintf(stderr, "%s\n", std::string(security.status().message()).c_str());
    std::exit(2);
  }
  return NewChannel(target, *security, own_connection);
}

const char* StatusCodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  return index >= 0 && index < static_cast<int>(std::size(kNames)) ? kNames[index] : "UNKNOWN";
}

}  // namespace hubstats::client
