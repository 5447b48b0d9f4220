#include "grpc/tls.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

using ::testing::HasSubstr;

TEST(TlsTest, LoopbackAddresses) {
  for (const char* address :
       {"127.0.0.1:50051", "127.1.2.3:0", "localhost:50051", "LOCALHOST:1", "[::1]:50051"}) {
    EXPECT_TRUE(IsLoopbackAddress(address)) << address;
  }
  for (const char* address :
       {"0.0.0.0:50051", "[::]:50051", "10.0.0.7:50051", "hubstats.example.com:443",
        "[::ffff:127.0.0.1]:1", "128.0.0.1:1", "localhost.evil.com:1"}) {
    EXPECT_FALSE(IsLoopbackAddress(address)) << address;
  }
}

TEST(TlsTest, PlaintextOnlyOnLoopbackUnlessAllowed) {
  const TlsSettings plaintext;
  TlsSettings tls;
  tls.cert_file = "cert.pem";
  tls.key_file = "key.pem";
  EXPECT_TRUE(CheckTransport("127.0.0.1:1", plaintext, false).ok());
  const absl::Status refused = CheckTransport("0.0.0.0:1", plaintext, false);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("--allow-insecure"));
  EXPECT_TRUE(CheckTransport("0.0.0.0:1", plaintext, true).ok());
  EXPECT_TRUE(CheckTransport("0.0.0.0:1", tls, false).ok());
  EXPECT_THAT(DescribeTransport("0.0.0.0:1", plaintext), HasSubstr("PLAINTEXT"));
  EXPECT_THAT(DescribeTransport("0.0.0.0:1", tls), HasSubstr("TLS"));
}

class TlsFilesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/hubstats-tls-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    directory_ = new std::string(pattern);
    ASSERT_EQ(std::system((std::string(HUBSTATS_MAKE_TEST_CERTS) + " " + *directory_).c_str()), 0);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*directory_);
    delete directory_;
  }
  static std::string File(const std::string& name) { return *directory_ + "/" + name; }
  static std::string* directory_;
};
std::string* TlsFilesTest::directory_ = nullptr;

TEST_F(TlsFilesTest, GoodFilesMakeCredentials) {
  TlsSettings settings{File("server.pem"), File("server.key"), "", absl::Seconds(1)};
  EXPECT_TRUE(ServerCredentialsFor(settings).ok());
  settings.client_ca_file = File("ca.pem");
  EXPECT_TRUE(ServerCredentialsFor(settings).ok());
  EXPECT_TRUE(ServerCredentialsFor(TlsSettings()).ok());  // Plaintext.
}

TEST_F(TlsFilesTest, MistakesStopTheStartNamingTheFile) {
  const std::string garbage = File("garbage.pem");
  std::ofstream(garbage) << "not a certificate\n";
  const std::vector<std::pair<TlsSettings, std::string>> cases = {
      {{File("server.pem"), "", "", absl::Seconds(1)}, "--tls-cert needs --tls-key"},
      {{"", File("server.key"), "", absl::Seconds(1)}, "need --tls-cert"},
      {{File("missing.pem"), File("server.key"), "", absl::Seconds(1)}, "missing.pem"},
      {{garbage, File("server.key"), "", absl::Seconds(1)}, "no PEM certificate"},
      {{File("server.pem"), garbage, "", absl::Seconds(1)}, "no PEM private key"},
      {{File("server.pem"), File("other-server.key"), "", absl::Seconds(1)},
       "is not the key of the certificate"},
      {{File("server.pem"), File("server.key"), garbage, absl::Seconds(1)}, "--tls-client-ca"},
  };
  for (const auto& [settings, message] : cases) {
    auto credentials = ServerCredentialsFor(settings);
    ASSERT_FALSE(credentials.ok()) << message;
    EXPECT_EQ(credentials.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(credentials.status().message(), HasSubstr(message));
  }
}

}  // namespace
}  // namespace hubstats
