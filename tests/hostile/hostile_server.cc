#include "hostile_server.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "raw_call.h"
#include "security/tokens.h"

namespace hubstats::test_support {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

}  // namespace

int HealthOf(const std::shared_ptr<grpc::Channel>& channel, grpc::Status* status) {
  std::string response;
  const grpc::Status result = RawUnaryCall(channel, "/grpc.health.v1.Health/Check", "", &response);
  if (status != nullptr) *status = result;
  // HealthCheckResponse{status = N}: field 1, varint.
  return result.ok() && response.size() == 2 && response[0] == '\x08' ? response[1] : -1;
}

const std::string& ServerBinary() {
  static const std::string path = std::getenv("HUBSTATS_SERVER_BIN")
                                      ? std::getenv("HUBSTATS_SERVER_BIN")
                                      : HUBSTATS_SERVER_PATH;
  return path;
}

std::string TokenLine(const std::string& name, const std::string& scopes, const std::string& token,
                      const std::string& options) {
  return absl::StrCat(name, " ", scopes, " sha256:", HexOf(Sha256Of(token)), " ", options, "\n");
}

HostileServer::HostileServer(HostileServerOptions options) : options_(std::move(options)) {
  char pattern[] = "/tmp/hubstats-hostile-XXXXXX";
  if (mkdtemp(pattern) == nullptr) std::abort();
  directory_ = pattern;
  const std::string certs = directory_ + "/certs";
  if (std::system(absl::StrCat(HUBSTATS_MAKE_TEST_CERTS, " ", certs).c_str()) != 0) std::abort();
  tokens_path_ = directory_ + "/tokens";
  std::ofstream(tokens_path_) << "# the hostile suite's tokens\n"
                              << TokenLine("writer", "ingest", TestTokens::kWriter,
                                           "producers=job-a-")
                              << TokenLine("other-writer", "ingest", TestTokens::kOtherWriter,
                                           "producers=job-b-")
                              << TokenLine("reader", "read", TestTokens::kReader)
                              << TokenLine("ops", "ingest,read,admin", TestTokens::kOps)
                              << TokenLine("slow", "ingest", TestTokens::kSlow, "rate=50000");
  log_path_ = directory_ + "/server.log";
  std::vector<std::string> args = {"--store", "redis", "--redis", redis_.url()};
  if (options_.tls) {
    args.insert(args.end(), {"--tls-cert", CertFile("server.pem"), "--tls-key",
                             CertFile("server.key"), "--tls-reload-s", "1"});
  }
  if (options_.mutual_tls) args.insert(args.end(), {"--tls-client-ca", CertFile("ca.pem")});
  if (options_.tokens) {
    args.insert(args.end(), {"--tokens-file", tokens_path_, "--tokens-reload-s", "1"});
  }
  if (options_.public_reads) args.push_back("--public-reads");
  args.insert(args.end(), options_.args.begin(), options_.args.end());
  server_ = std::make_unique<ServerProcess>(ServerBinary(), args, log_path_);
  target_ = server_->target();
  // The port opens before the read model has loaded (health NOT_SERVING meanwhile): tests
  // start once the server serves.
  const auto channel = Channel("");
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (HealthOf(channel) != 1 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

HostileServer::~HostileServer() {
  server_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

std::string HostileServer::CertFile(const std::string& name) const {
  return directory_ + "/certs/" + name;
}

std::string HostileServer::ReadCert(const std::string& name) const { return Slurp(CertFile(name)); }

std::string HostileServer::Log() const { return Slurp(log_path_); }

client::ChannelSecurity HostileServer::ClientSecurity() const {
  client::ChannelSecurity security;
  if (options_.tls) {
    security.tls = true;
    security.ca_pem = ReadCert("ca.pem");
    if (options_.mutual_tls) {
      security.cert_pem = ReadCert("client.pem");
      security.key_pem = ReadCert("client.key");
    }
  }
  return security;
}

std::shared_ptr<grpc::Channel> HostileServer::Channel(const std::string& token) const {
  client::ChannelSecurity security = ClientSecurity();
  security.token = token;
  return Channel(security);
}

std::shared_ptr<grpc::Channel> HostileServer::Channel(
    const client::ChannelSecurity& security) const {
  // A channel of its own each time, so tests that break a connection break only theirs.
  return client::NewChannel(target_, security, /*own_connection=*/true);
}

}  // namespace hubstats::test_support
