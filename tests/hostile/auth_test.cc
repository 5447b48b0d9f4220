// Who gets in (issue 16, items 1 and 2, over real gRPC with TLS): every RPC without a token,
// with a wrong one, with one lacking the scope; producer ids bound to tokens; token and
// certificate files replaced while the server runs; plaintext and TLS crossed; mutual TLS;
// health and reflection without a token; the transport rules at start.
#include <grpcpp/grpcpp.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hostile_server.h"
#include "hubstats/v1/hubstats.grpc.pb.h"
#include "ingest_calls.h"
#include "raw_call.h"

namespace hubstats {
namespace {

using test_support::Events;
using test_support::HealthOf;
using test_support::HostileServer;
using test_support::HostileServerOptions;
using test_support::Stream;
using test_support::StreamResult;
using test_support::TestTokens;
using ::testing::HasSubstr;

// Every method of the API with a request that is valid for it.
const std::vector<std::pair<std::string, std::string>>& EveryMethod() {
  static const auto* methods = [] {
    v1::BreakdownRequest breakdown;
    breakdown.set_dimension(v1::DIMENSION_TASK);
    v1::ModelStatsRequest model;
    model.set_model_id("org/model");
    v1::UpsertModelsRequest upsert;
    upsert.add_models()->set_model_id("org/model");
    return new std::vector<std::pair<std::string, std::string>>{
        {"/hubstats.v1.IngestService/UpsertModels", upsert.SerializeAsString()},
        {"/hubstats.v1.QueryService/GetModalityShare", ""},
        {"/hubstats.v1.QueryService/GetSizeDistribution", ""},
        {"/hubstats.v1.QueryService/GetTopN", ""},
        {"/hubstats.v1.QueryService/GetBreakdown", breakdown.SerializeAsString()},
        {"/hubstats.v1.QueryService/GetTotals", ""},
        {"/hubstats.v1.QueryService/GetModelStats", model.SerializeAsString()},
        {"/hubstats.v1.QueryService/GetTrend", ""},
    };
  }();
  return *methods;
}

bool IsQuery(const std::string& method) { return method.find("QueryService") != std::string::npos; }

grpc::StatusCode StreamCode(const std::shared_ptr<grpc::Channel>& channel,
                            const std::string& producer = "job-a-1") {
  v1::IngestRequest batch = Events(3, "org/model");
  if (!producer.empty()) {
    batch.set_producer_id(producer);
    batch.set_sequence(1);
  }
  return Stream(channel, {batch}).status.error_code();
}

// A reflection request listing the services; the status of the stream.
grpc::Status ListServices(const std::shared_ptr<grpc::Channel>& channel, std::string* answer) {
  test_support::RawBidiCall call(
      channel, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", 10'000);
  call.Write(std::string("\x3a\x01*", 3));  // list_services = "*"
  call.WritesDone();
  if (std::optional<std::string> read = call.Read(); read.has_value()) *answer = *read;
  return call.Finish();
}

class AuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new HostileServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static HostileServer* server_;
};
HostileServer* AuthTest::server_ = nullptr;

TEST_F(AuthTest, NoTokenGetsNothingButHealthAndReflection) {
  const auto channel = server_->Channel("");
  for (const auto& [method, request] : EveryMethod()) {
    const grpc::Status status = test_support::RawUnaryCall(channel, method, request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method;
    EXPECT_THAT(status.error_message(), HasSubstr("authorization: Bearer")) << method;
  }
  EXPECT_EQ(StreamCode(channel), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(HealthOf(channel), 1);
  std::string services;
  ASSERT_TRUE(ListServices(channel, &services).ok());
  EXPECT_THAT(services, HasSubstr("hubstats.v1.QueryService"));
}

TEST_F(AuthTest, AWrongTokenIsUnauthenticated) {
  for (const std::string& token :
       {std::string("not-a-token"), std::string(TestTokens::kWriter) + "x",
        std::string(4096, 'a')}) {
    const auto channel = server_->Channel(token);
    for (const auto& [method, request] : EveryMethod()) {
      EXPECT_EQ(test_support::RawUnaryCall(channel, method, request).error_code(),
                grpc::StatusCode::UNAUTHENTICATED)
          << method;
    }
    EXPECT_EQ(StreamCode(channel), grpc::StatusCode::UNAUTHENTICATED);
  }
}

TEST_F(AuthTest, AWriterCannotReadAndAReaderCannotIngest) {
  const auto writer = server_->Channel(TestTokens::kWriter);
  const auto reader = server_->Channel(TestTokens::kReader);
  for (const auto& [method, request] : EveryMethod()) {
    const grpc::Status as_writer = test_support::RawUnaryCall(writer, method, request);
    const grpc::Status as_reader = test_support::RawUnaryCall(reader, method, request);
    if (IsQuery(method)) {
      EXPECT_EQ(as_writer.error_code(), grpc::StatusCode::PERMISSION_DENIED) << method;
      EXPECT_THAT(as_writer.error_message(), HasSubstr("'read'"));
      // GetModelStats of a model nobody sent is NOT_FOUND: past the guard.
      EXPECT_THAT(as_reader.error_code(),
                  ::testing::AnyOf(grpc::StatusCode::OK, grpc::StatusCode::NOT_FOUND))
          << method << ": " << as_reader.error_message();
    } else {
      EXPECT_TRUE(as_writer.ok()) << method << ": " << as_writer.error_message();
      EXPECT_EQ(as_reader.error_code(), grpc::StatusCode::PERMISSION_DENIED) << method;
      EXPECT_THAT(as_reader.error_message(), HasSubstr("'ingest'"));
    }
  }
  EXPECT_EQ(StreamCode(reader), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(StreamCode(writer, "job-a-writer-vs-reader"), grpc::StatusCode::OK);
}

TEST_F(AuthTest, AnIngestTokenCannotTakeOverAnotherJobsProducer) {
  const auto writer = server_->Channel(TestTokens::kWriter);
  const auto other = server_->Channel(TestTokens::kOtherWriter);
  auto query = v1::QueryService::NewStub(server_->Channel(TestTokens::kReader));
  const int64_t before = test_support::TotalDownloads(*query);
  // The other job's producer, numbered far ahead: it would make every later batch of job-b-7
  // fail (FAILED_PRECONDITION) if writer could send it.
  std::vector<v1::IngestRequest> batches(3, Events(5, "org/takeover"));
  for (int i = 0; i < 3; ++i) {
    batches[i].set_producer_id(i < 2 ? "job-a-7" : "job-b-7");
    batches[i].set_sequence(i < 2 ? i + 1 : 1'000'000);
  }
  // The hijacking batch in packed columns: the binding holds for either form.
  batches[2].clear_events();
  batches[2].mutable_packed()->add_model_ids("org/takeover");
  for (int i = 0; i < 5; ++i) batches[2].mutable_packed()->add_model_index(0);
  const StreamResult hijack = Stream(writer, batches);
  EXPECT_EQ(hijack.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(hijack.status.error_message(), HasSubstr("producer_id"));
  EXPECT_THAT(hijack.status.error_message(), HasSubstr("job-a-"));
  ASSERT_EQ(hijack.answers.size(), 2u) << "the batches before the refused one are answered";
  // The rightful owner's sequence is untouched.
  v1::IngestRequest own = Events(4, "org/takeover");
  own.set_producer_id("job-b-7");
  own.set_sequence(1);
  const StreamResult owner = Stream(other, {own});
  ASSERT_TRUE(owner.status.ok()) << owner.status.error_message();
  ASSERT_EQ(owner.answers.size(), 1u);
  EXPECT_FALSE(owner.answers[0].duplicate());
  // Without a producer id a bound token still ingests (no one's sequence is at stake).
  EXPECT_EQ(StreamCode(writer, ""), grpc::StatusCode::OK);
  EXPECT_EQ(test_support::TotalDownloads(*query), before + 2 * 5 + 4 + 3);
}

TEST_F(AuthTest, PlaintextToTheTlsPortIsRefusedAndTheServerServesOn) {
  client::ChannelSecurity plaintext;
  plaintext.token = TestTokens::kOps;
  const auto channel = server_->Channel(plaintext);
  grpc::Status status;
  EXPECT_EQ(HealthOf(channel, &status), -1);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(StreamCode(channel), grpc::StatusCode::UNAVAILABLE);
  // A client that trusts another CA does not get through either.
  client::ChannelSecurity wrong_ca = server_->ClientSecurity();
  wrong_ca.ca_pem = server_->ReadCert("other-ca.pem");
  EXPECT_EQ(HealthOf(server_->Channel(wrong_ca), &status), -1);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(HealthOf(server_->Channel(TestTokens::kOps)), 1);
}

TEST_F(AuthTest, ReflectionCanBeTurnedOff) {
  HostileServer server({.args = {"--reflection=false"}});
  std::string services;
  EXPECT_EQ(ListServices(server.Channel(""), &services).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(HealthOf(server.Channel("")), 1);
}

TEST(PublicReadsTest, QueriesNeedNoTokenIngestStillDoes) {
  HostileServer server({.public_reads = true});
  const auto anonymous = server.Channel("");
  for (const auto& [method, request] : EveryMethod()) {
    const grpc::Status status = test_support::RawUnaryCall(anonymous, method, request);
    if (IsQuery(method)) {
      EXPECT_THAT(status.error_code(),
                  ::testing::AnyOf(grpc::StatusCode::OK, grpc::StatusCode::NOT_FOUND))
          << method;
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method;
    }
  }
  EXPECT_EQ(StreamCode(anonymous), grpc::StatusCode::UNAUTHENTICATED);
  // A wrong token is still refused, a writer may read.
  EXPECT_EQ(test_support::RawUnaryCall(server.Channel("nonsense"),
                                       "/hubstats.v1.QueryService/GetTotals", "")
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(test_support::RawUnaryCall(server.Channel(TestTokens::kWriter),
                                         "/hubstats.v1.QueryService/GetTotals", "")
                  .ok());
}

// Waits until `check` holds, up to 10 s (the server re-reads files every second here).
template <typename Check>
bool Eventually(Check check) {
  for (int i = 0; i < 100; ++i) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(ReloadTest, ReplacedTokensTakeEffectWithoutARestart) {
  HostileServer server;
  const std::string totals = "/hubstats.v1.QueryService/GetTotals";
  ASSERT_TRUE(test_support::RawUnaryCall(server.Channel(TestTokens::kReader), totals, "").ok());
  // Rotation: the reader's token replaced by a new one, written to a new file moved over the
  // old (as editors and Kubernetes do).
  const std::string replacement = server.tokens_path() + ".new";
  std::ofstream(replacement) << test_support::TokenLine("reader", "read", "reader-rotated-1");
  std::filesystem::rename(replacement, server.tokens_path());
  EXPECT_TRUE(Eventually([&] {
    return test_support::RawUnaryCall(server.Channel(TestTokens::kReader), totals, "")
               .error_code() == grpc::StatusCode::UNAUTHENTICATED;
  }));
  EXPECT_TRUE(test_support::RawUnaryCall(server.Channel("reader-rotated-1"), totals, "").ok());
  // A broken file keeps the tokens in force (and says so in the log).
  std::ofstream(server.tokens_path()) << "reader read sha256:nothex\n";
  EXPECT_TRUE(Eventually([&] { return server.Log().find("does not parse") != std::string::npos; }));
  EXPECT_TRUE(test_support::RawUnaryCall(server.Channel("reader-rotated-1"), totals, "").ok());
  EXPECT_THAT(server.Log(), ::testing::Not(HasSubstr("reader-rotated-1")));
}

TEST(ReloadTest, ReplacedCertificatesTakeEffectWithoutARestart) {
  HostileServer server;
  client::ChannelSecurity old_ca = server.ClientSecurity();
  old_ca.token = TestTokens::kOps;
  client::ChannelSecurity new_ca = old_ca;
  new_ca.ca_pem = server.ReadCert("other-ca.pem");
  ASSERT_EQ(HealthOf(server.Channel(old_ca)), 1);
  ASSERT_EQ(HealthOf(server.Channel(new_ca)), -1);
  // The new key first under another name, then both moved into place.
  std::filesystem::copy_file(server.CertFile("other-server.key"), server.CertFile("next.key"));
  std::filesystem::copy_file(server.CertFile("other-server.pem"), server.CertFile("next.pem"));
  std::filesystem::rename(server.CertFile("next.key"), server.CertFile("server.key"));
  std::filesystem::rename(server.CertFile("next.pem"), server.CertFile("server.pem"));
  EXPECT_TRUE(Eventually([&] { return HealthOf(server.Channel(new_ca)) == 1; }));
  EXPECT_EQ(HealthOf(server.Channel(old_ca)), -1);
  EXPECT_TRUE(
      test_support::RawUnaryCall(server.Channel(new_ca), "/hubstats.v1.QueryService/GetTotals", "")
          .ok());
}

TEST(MutualTlsTest, OnlyClientsWithACertificateFromTheCaGetIn) {
  HostileServer server({.mutual_tls = true});
  const std::string totals = "/hubstats.v1.QueryService/GetTotals";
  client::ChannelSecurity good = server.ClientSecurity();
  good.token = TestTokens::kReader;
  EXPECT_TRUE(test_support::RawUnaryCall(server.Channel(good), totals, "").ok());
  client::ChannelSecurity no_certificate = good;
  no_certificate.cert_pem.clear();
  no_certificate.key_pem.clear();
  EXPECT_EQ(test_support::RawUnaryCall(server.Channel(no_certificate), totals, "").error_code(),
            grpc::StatusCode::UNAVAILABLE);
  client::ChannelSecurity other_ca = good;
  other_ca.cert_pem = server.ReadCert("other-client.pem");
  other_ca.key_pem = server.ReadCert("other-client.key");
  EXPECT_EQ(test_support::RawUnaryCall(server.Channel(other_ca), totals, "").error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // A certificate is no token: the call still needs one.
  client::ChannelSecurity certificate_only = good;
  certificate_only.token.clear();
  EXPECT_EQ(test_support::RawUnaryCall(server.Channel(certificate_only), totals, "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

// Exit status and output of the server started with `args` (it is expected to stop at once).
std::pair<int, std::string> StartAndExit(const std::vector<std::string>& args) {
  char pattern[] = "/tmp/hubstats-start-XXXXXX";
  EXPECT_NE(mkdtemp(pattern), nullptr);
  const std::string log = std::string(pattern) + "/log";
  std::vector<std::string> argv = {test_support::ServerBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto process = test_support::ChildProcess::Start(argv, log);
  const int status = process->Stop(0);  // Signal 0: only wait for the exit.
  std::ifstream file(log);
  std::string output((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(pattern);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST(TransportTest, PlaintextOnANetworkAddressNeedsAllowInsecure) {
  for (const char* listen : {"0.0.0.0:0", "[::]:0"}) {
    const auto [code, output] = StartAndExit({"--listen", listen});
    EXPECT_EQ(code, 2) << listen;
    EXPECT_THAT(output, HasSubstr("refusing to serve plaintext")) << listen;
    EXPECT_THAT(output, HasSubstr("--allow-insecure")) << listen;
  }
  // With the switch it starts, on every address, and says so.
  const int port = test_support::FreeLoopbackPort();
  char pattern[] = "/tmp/hubstats-insecure-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string log = std::string(pattern) + "/log";
  {
    auto process =
        test_support::ChildProcess::Start({test_support::ServerBinary(), "--listen",
                                           absl::StrCat("0.0.0.0:", port), "--allow-insecure"},
                                          log);
    ASSERT_TRUE(test_support::WaitForPort(port, 10'000));
    EXPECT_EQ(HealthOf(grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                           grpc::InsecureChannelCredentials())),
              1);
  }
  std::ifstream file(log);
  const std::string output((std::istreambuf_iterator<char>(file)),
                           std::istreambuf_iterator<char>());
  EXPECT_THAT(output, HasSubstr("PLAINTEXT on a network address"));
  std::filesystem::remove_all(pattern);
  const auto [code, message] =
      StartAndExit({"--listen", "127.0.0.1:0", "--tls-cert", "/nonexistent.pem", "--tls-key", "k"});
  EXPECT_EQ(code, 2);
  EXPECT_THAT(message, HasSubstr("/nonexistent.pem"));
}

TEST(TransportTest, TheProbePortAnswersHealthInPlaintextAndNothingElse) {
  HostileServer server({.args = {"--health-listen", "127.0.0.1:0", "--redis-timeout-ms", "300"}});
  // The probe port is printed on stdout ("health port N"), which the log holds.
  const std::string log = server.Log();
  const size_t at = log.find("health port ");
  ASSERT_NE(at, std::string::npos) << log;
  const std::string target = "127.0.0.1:" + std::to_string(std::stoi(log.substr(at + 12)));
  const auto probe = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  EXPECT_EQ(HealthOf(probe), 1);
  const grpc::Status other =
      test_support::RawUnaryCall(probe, "/hubstats.v1.QueryService/GetTotals", "");
  EXPECT_EQ(other.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  std::string services;
  EXPECT_EQ(ListServices(probe, &services).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  // While Redis does not answer, the probe says so too.
  server.redis().Pause();
  EXPECT_TRUE(Eventually([&] { return HealthOf(probe) == 2; }));  // NOT_SERVING
  server.redis().Resume();
  EXPECT_TRUE(Eventually([&] { return HealthOf(probe) == 1; }));
}

}  // namespace
}  // namespace hubstats
