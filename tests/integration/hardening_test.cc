// The server process under input and conditions that broke promises before (issue 9): a
// refused batch behind a committed one while Redis is stopped, malformed messages on every RPC,
// memory held by many streams while Redis is stopped (measured as the process's peak RSS),
// queries while Redis is stopped, queries that must write nothing to Redis, and credentials
// in a bad Redis URL.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hubstats/v1/hubstats.grpc.pb.h"
#include "ingest_calls.h"
#include "raw_call.h"
#include "redis_server.h"

namespace hubstats {
namespace {

using test_support::Events;
using test_support::MemoryOf;
using test_support::RedisServer;
using test_support::ServerProcess;
using test_support::Stream;
using test_support::StreamResult;
using test_support::TotalDownloads;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string& ServerBinary() {
  static const std::string path = std::getenv("HUBSTATS_SERVER_BIN")
                                      ? std::getenv("HUBSTATS_SERVER_BIN")
                                      : HUBSTATS_SERVER_PATH;
  return path;
}

std::shared_ptr<grpc::Channel> Channel(const ServerProcess& server) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxSendMessageSize(64 << 20);
  return grpc::CreateCustomChannel(server.target(), grpc::InsecureChannelCredentials(), arguments);
}

// Issue 9, defect 2, as reported: [10 valid events, then 100,001 events] while Redis is
// stopped for a second. The 10 count, so they are answered before the stream ends.
TEST(HardeningTest, CommittedBatchIsAnsweredBeforeARefusedOneEndsTheStream) {
  RedisServer redis;
  ServerProcess server(ServerBinary(), {"--store", "redis", "--redis", redis.url()});
  auto channel = Channel(server);
  redis.Pause();
  std::thread resume([&] {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    redis.Resume();
  });
  const StreamResult result =
      Stream(channel, {Events(10, "org/model"), Events(100'001, "org/model")});
  resume.join();
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(result.status.error_message(), HasSubstr("at most 100000"));
  ASSERT_EQ(result.answers.size(), 1u) << "the committed batch was not answered";
  EXPECT_EQ(result.answers[0].accepted(), 10);
  auto query = v1::QueryService::NewStub(channel);
  EXPECT_EQ(TotalDownloads(*query), 10);
}

// Issue 9, defect 3: bytes that are no message end every RPC with INVALID_ARGUMENT naming the
// message expected (gRPC's typed handlers answered UNIMPLEMENTED with no message).
TEST(HardeningTest, MalformedBytesOnEveryUnaryRpcAreInvalidArgument) {
  ServerProcess server(ServerBinary(), {"--store", "memory"});
  auto channel = Channel(server);
  const std::vector<std::pair<std::string, std::string>> methods = {
      {"/hubstats.v1.IngestService/UpsertModels", "UpsertModelsRequest"},
      {"/hubstats.v1.QueryService/GetModalityShare", "ModalityShareRequest"},
      {"/hubstats.v1.QueryService/GetSizeDistribution", "SizeDistributionRequest"},
      {"/hubstats.v1.QueryService/GetTopN", "TopNRequest"},
      {"/hubstats.v1.QueryService/GetBreakdown", "BreakdownRequest"},
      {"/hubstats.v1.QueryService/GetTotals", "TotalsRequest"},
      {"/hubstats.v1.QueryService/GetModelStats", "ModelStatsRequest"},
  };
  // Garbage, a truncated field, and a string that is not UTF-8 (field 1 of every request is a
  // message or a string).
  const std::vector<std::string> payloads = {std::string("\xff\xff\xff", 3),
                                             std::string("\x0a\x09zz", 4),
                                             std::string("\x0a\x02\xc3\x28", 4)};
  for (const auto& [method, message] : methods) {
    for (const std::string& payload : payloads) {
      const grpc::Status status = test_support::RawUnaryCall(channel, method, payload);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << method;
      EXPECT_THAT(status.error_message(), HasSubstr("hubstats.v1." + message)) << method;
    }
  }
}

// Issue 9, defect 5: with Redis stopped, many streams each landing a big batch, or many tiny
// events per batch, grew the server by gigabytes past --max-inflight-mb. Now the budget bounds
// what is held: the process's peak RSS grows by little more than the budget.
class BudgetTest : public ::testing::Test {
 protected:
  static constexpr int64_t kBudgetMb = 48;

  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        ServerBinary(), std::vector<std::string>{
                            "--store", "redis", "--redis", redis_.url(), "--max-inflight-mb",
                            absl::StrCat(kBudgetMb), "--max-message-mb", "8", "--max-batch-events",
                            "10000", "--redis-timeout-ms", "500", "--store-retry-ms", "120000"});
    channel_ = Channel(*server_);
    // Warm up: one batch through, so the process's steady memory is in the baseline.
    ASSERT_TRUE(Stream(channel_, {Events(10, "warm/up")}).status.ok());
    baseline_ = MemoryOf(server_->process().pid(), "VmRSS");
    ASSERT_GT(baseline_, 0);
  }

  // Sends `streams` streams of `batches` at once while Redis is stopped; returns the growth of
  // the server's peak RSS over the baseline. Every batch is answered once Redis is back.
  int64_t PeakGrowth(int streams, const std::vector<v1::IngestRequest>& batches) {
    redis_.Pause();
    std::atomic<int> answered{0};
    std::vector<std::thread> clients;
    for (int s = 0; s < streams; ++s) {
      clients.emplace_back([&] {
        const StreamResult result = Stream(channel_, batches);
        EXPECT_TRUE(result.status.ok()) << result.status.error_message();
        answered += static_cast<int>(result.answers.size());
      });
    }
    // Long enough for every stream to have sent whatever the server lets it.
    std::this_thread::sleep_for(std::chrono::seconds(4));
    const int64_t peak = MemoryOf(server_->process().pid(), "VmHWM");
    redis_.Resume();
    for (std::thread& client : clients) client.join();
    EXPECT_EQ(answered.load(), streams * static_cast<int>(batches.size()));
    std::printf("peak RSS grew by %lld MB with a %lld MB budget\n",
                static_cast<long long>((peak - baseline_) >> 20),
                static_cast<long long>(kBudgetMb));
    return peak - baseline_;
  }

  RedisServer redis_;
  std::unique_ptr<ServerProcess> server_;
  std::shared_ptr<grpc::Channel> channel_;
  int64_t baseline_ = 0;
};

TEST_F(BudgetTest, ManyStreamsWithBigBatchesStayWithinTheBudget) {
  // 24 streams, one batch each of 10,000 events with 100-character ids and 250-character
  // revisions: about 3.6 MB on the wire each, 86 MB in all.
  const std::string model = std::string(96, 'o') + "/" + std::string(3, 'm');
  const v1::IngestRequest batch = Events(10'000, model, std::string(250, 'r'));
  const int64_t growth = PeakGrowth(24, {batch});
  EXPECT_LT(growth, (kBudgetMb + 40) << 20) << "peak RSS grew by " << (growth >> 20) << " MB";
  auto query = v1::QueryService::NewStub(channel_);
  EXPECT_EQ(TotalDownloads(*query), 10 + 24 * 10'000);
}

TEST_F(BudgetTest, ManyTinyEventsStayWithinTheBudget) {
  // 8 streams x 32 batches x 10,000 tiny events: 25 MB on the wire, ten times that parsed.
  std::vector<v1::IngestRequest> batches(32, Events(10'000, "a/b"));
  const int64_t growth = PeakGrowth(8, batches);
  EXPECT_LT(growth, (kBudgetMb + 40) << 20) << "peak RSS grew by " << (growth >> 20) << " MB";
  auto query = v1::QueryService::NewStub(channel_);
  EXPECT_EQ(TotalDownloads(*query), 10 + 8 * 32 * 10'000);
}

// Issue 9, defect 7: with Redis stopped, queries took 10.3 s and ended DEADLINE_EXCEEDED. Now
// queries are answered by the replica's read model without waiting for Redis at all; what
// does need Redis (a model's revisions, `fresh`) fails within --query-timeout-ms with
// UNAVAILABLE.
TEST(HardeningTest, QueriesDoNotWaitForAStoppedRedis) {
  RedisServer redis;
  ServerProcess server(ServerBinary(),
                       {"--store", "redis", "--redis", redis.url(), "--query-timeout-ms", "500"});
  auto channel = Channel(server);
  ASSERT_TRUE(Stream(channel, {Events(5, "org/model")}).status.ok());
  auto query = v1::QueryService::NewStub(channel);
  EXPECT_EQ(TotalDownloads(*query), 5);  // Fresh: the replica has applied the batch.
  redis.Pause();
  auto timed = [&](const std::string& what, auto call, grpc::StatusCode expected) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    const auto start = std::chrono::steady_clock::now();
    const grpc::Status status = call(context);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(status.error_code(), expected) << what << ": " << status.error_message();
    if (expected == grpc::StatusCode::UNAVAILABLE) {
      EXPECT_THAT(status.error_message(), HasSubstr("did not answer")) << what;
    }
    EXPECT_LT(elapsed, std::chrono::milliseconds(2500)) << what;
  };
  timed(
      "modality",
      [&](grpc::ClientContext& context) {
        v1::ModalityShareResponse response;
        const grpc::Status status =
            query->GetModalityShare(&context, v1::ModalityShareRequest(), &response);
        EXPECT_EQ(response.total_downloads(), 5);
        return status;
      },
      grpc::StatusCode::OK);
  timed(
      "sizes",
      [&](grpc::ClientContext& context) {
        v1::SizeDistributionResponse response;
        return query->GetSizeDistribution(&context, v1::SizeDistributionRequest(), &response);
      },
      grpc::StatusCode::OK);
  timed(
      "top",
      [&](grpc::ClientContext& context) {
        v1::TopNResponse response;
        return query->GetTopN(&context, v1::TopNRequest(), &response);
      },
      grpc::StatusCode::OK);
  timed(
      "breakdown",
      [&](grpc::ClientContext& context) {
        v1::BreakdownRequest request;
        request.set_dimension(v1::DIMENSION_TASK);
        v1::BreakdownResponse response;
        return query->GetBreakdown(&context, request, &response);
      },
      grpc::StatusCode::OK);
  timed(
      "totals",
      [&](grpc::ClientContext& context) {
        v1::TotalsResponse response;
        return query->GetTotals(&context, v1::TotalsRequest(), &response);
      },
      grpc::StatusCode::OK);
  timed(
      "model (reads revisions from Redis)",
      [&](grpc::ClientContext& context) {
        v1::ModelStatsRequest request;
        request.set_model_id("org/model");
        v1::ModelStatsResponse response;
        return query->GetModelStats(&context, request, &response);
      },
      grpc::StatusCode::UNAVAILABLE);
  timed(
      "totals, fresh (reads Redis's versions)",
      [&](grpc::ClientContext& context) {
        v1::TotalsRequest request;
        request.mutable_freshness()->set_fresh(true);
        v1::TotalsResponse response;
        return query->GetTotals(&context, request, &response);
      },
      grpc::StatusCode::UNAVAILABLE);
  redis.Resume();
  EXPECT_EQ(TotalDownloads(*query), 5);
}

// One field of `INFO persistence` (or any INFO line "name:value") as a number.
int64_t RedisInfo(const RedisServer& redis, const std::string& field) {
  std::istringstream info(redis.Cli("INFO persistence"));
  std::string line;
  while (std::getline(info, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  ADD_FAILURE() << "no " << field << " in INFO persistence";
  return -1;
}

// Issue 9, defect 6: queries wrote to Redis (cache keys, revision rankings). Every query kind,
// over all time and many date ranges, fresh and not, must leave the AOF, the key count and
// Redis' change counter exactly where they were.
TEST(HardeningTest, QueriesWriteNothingToRedis) {
  RedisServer redis;
  redis.Cli("CONFIG SET appendonly yes");
  redis.Cli("CONFIG SET appendfsync always");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (RedisInfo(redis, "aof_enabled") != 1 || RedisInfo(redis, "aof_rewrite_in_progress") != 0) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "AOF did not start";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ServerProcess server(ServerBinary(), {"--store", "redis", "--redis", redis.url()});
  auto channel = Channel(server);
  // 30 days of downloads of a few models, some with revisions, and their catalog records.
  const int64_t last_day = 1'727'654'400;  // 2024-09-30, midnight UTC.
  std::vector<v1::IngestRequest> batches;
  for (int day = 0; day < 30; ++day) {
    v1::IngestRequest batch = Events(20, absl::StrCat("org", day % 4, "/model", day % 7),
                                     day % 3 ? "" : absl::StrCat("rev", day % 2));
    for (v1::DownloadEvent& event : *batch.mutable_events()) {
      event.mutable_timestamp()->set_seconds(last_day - day * 86400);
    }
    batches.push_back(batch);
  }
  ASSERT_TRUE(Stream(channel, batches).status.ok());
  v1::UpsertModelsRequest catalog;
  for (int m = 0; m < 7; ++m) {
    v1::ModelRecord* record = catalog.add_models();
    record->set_model_id(absl::StrCat("org", m % 4, "/model", m));
    record->set_pipeline_tag(m % 2 ? "text-generation" : "image-classification");
    record->set_num_parameters(int64_t{1} << (20 + m));
  }
  {
    auto ingest = v1::IngestService::NewStub(channel);
    grpc::ClientContext context;
    v1::UpsertModelsResponse upserted;
    ASSERT_TRUE(ingest->UpsertModels(&context, catalog, &upserted).ok());
  }
  auto query = v1::QueryService::NewStub(channel);
  ASSERT_EQ(TotalDownloads(*query), 600);  // Fresh: everything written is applied.

  const int64_t aof_before = RedisInfo(redis, "aof_current_size");
  const int64_t changes_before = RedisInfo(redis, "rdb_changes_since_last_save");
  const std::string keys_before = redis.Cli("DBSIZE");
  int calls = 0;
  for (int first = 0; first < 30; first += 3) {
    for (int length : {1, 7, 30}) {
      for (bool fresh : {false, true}) {
        auto scoped = [&](auto& request) {
          if (fresh) request.mutable_freshness()->set_fresh(true);
          const absl::CivilDay start = absl::ToCivilDay(
              absl::FromUnixSeconds(last_day - first * 86400), absl::UTCTimeZone());
          auto set = [](v1::Date* date, absl::CivilDay day) {
            date->set_year(static_cast<int32_t>(day.year()));
            date->set_month(day.month());
            date->set_day(day.day());
          };
          set(request.mutable_range()->mutable_start(), start - (length - 1));
          set(request.mutable_range()->mutable_end(), start);
        };
        auto check = [&](const grpc::Status& status) {
          ++calls;
          EXPECT_TRUE(status.ok()) << status.error_message();
        };
        {
          grpc::ClientContext context;
          v1::ModalityShareRequest request;
          scoped(request);
          v1::ModalityShareResponse response;
          check(query->GetModalityShare(&context, request, &response));
        }
        {
          grpc::ClientContext context;
          v1::SizeDistributionRequest request;
          scoped(request);
          v1::SizeDistributionResponse response;
          check(query->GetSizeDistribution(&context, request, &response));
        }
        for (const auto by : {v1::RANK_BY_MODEL, v1::RANK_BY_AUTHOR}) {
          grpc::ClientContext context;
          v1::TopNRequest request;
          scoped(request);
          request.set_by(by);
          v1::TopNResponse response;
          check(query->GetTopN(&context, request, &response));
        }
        {
          grpc::ClientContext context;
          v1::BreakdownRequest request;
          scoped(request);
          request.set_dimension(v1::DIMENSION_TASK);
          v1::BreakdownResponse response;
          check(query->GetBreakdown(&context, request, &response));
        }
        {
          grpc::ClientContext context;
          v1::TotalsRequest request;
          scoped(request);
          v1::TotalsResponse response;
          check(query->GetTotals(&context, request, &response));
        }
        {
          grpc::ClientContext context;
          v1::ModelStatsRequest request;
          request.set_model_id(absl::StrCat("org", first % 4, "/model", first % 7));
          scoped(request);
          v1::ModelStatsResponse response;
          check(query->GetModelStats(&context, request, &response));
        }
      }
    }
  }
  EXPECT_EQ(calls, 10 * 3 * 2 * 7);
  EXPECT_EQ(RedisInfo(redis, "aof_current_size"), aof_before);
  EXPECT_EQ(RedisInfo(redis, "rdb_changes_since_last_save"), changes_before);
  EXPECT_EQ(redis.Cli("DBSIZE"), keys_before);
  // The counters would have seen a write: one more batch moves all three.
  ASSERT_TRUE(Stream(channel, {Events(1, "org0/model0")}).status.ok());
  EXPECT_GT(RedisInfo(redis, "aof_current_size"), aof_before);
  EXPECT_GT(RedisInfo(redis, "rdb_changes_since_last_save"), changes_before);
}

// Issue 9, defect 10: a malformed --redis URL must not print its password.
TEST(HardeningTest, BadRedisUrlNeverPrintsThePassword) {
  char directory[] = "/tmp/hubstats-url-XXXXXX";
  ASSERT_NE(mkdtemp(directory), nullptr);
  const std::string log = std::string(directory) + "/server.log";
  for (const char* url : {"redis://user:s3cr3t@127.0.0.1:notaport", "redis://user:s3cr3t@:6379",
                          "http://user:s3cr3t@127.0.0.1:6379", "redis://s3cr3t@127.0.0.1:6379"}) {
    auto process = test_support::ChildProcess::Start(
        {ServerBinary(), "--store", "redis", "--redis", url, "--listen", "127.0.0.1:0"}, log);
    const int status = process->Stop(0);  // Signal 0: only wait for the exit.
    EXPECT_TRUE(WIFEXITED(status)) << url;
    EXPECT_EQ(WEXITSTATUS(status), 2) << url;
    std::ifstream file(log);
    const std::string output((std::istreambuf_iterator<char>(file)),
                             std::istreambuf_iterator<char>());
    EXPECT_THAT(output, HasSubstr("redis URL")) << url;
    EXPECT_THAT(output, Not(HasSubstr("s3cr3t"))) << output;
  }
  std::remove(log.c_str());
  rmdir(directory);
}

}  // namespace
}  // namespace hubstats
