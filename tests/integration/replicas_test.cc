// Replicas over one Redis (issue 11): each answers from its own read model, which follows the
// store; at the same version they answer byte for byte alike, a query can ask for a write it
// knows of (min_version) or for everything committed (fresh), and a replica that starts or
// restarts against a loaded Redis catches up.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hubstats/v1/hubstats.grpc.pb.h"
#include "redis_server.h"

namespace hubstats {
namespace {

using test_support::RedisServer;
using test_support::ServerProcess;
using ::testing::HasSubstr;

std::string ServerBinary() { return HUBSTATS_SERVER_PATH; }

struct Replica {
  explicit Replica(const ServerProcess& server)
      : channel(grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials())),
        ingest(v1::IngestService::NewStub(channel)),
        query(v1::QueryService::NewStub(channel)) {}
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::IngestService::Stub> ingest;
  std::unique_ptr<v1::QueryService::Stub> query;
};

// Ingests `batches` on one stream; returns the answers (all must be OK).
std::vector<v1::IngestResponse> Ingest(Replica& replica,
                                       const std::vector<v1::IngestRequest>& batches) {
  grpc::ClientContext context;
  auto stream = replica.ingest->StreamEvents(&context);
  for (const v1::IngestRequest& batch : batches) EXPECT_TRUE(stream->Write(batch));
  stream->WritesDone();
  std::vector<v1::IngestResponse> answers;
  v1::IngestResponse response;
  while (stream->Read(&response)) answers.push_back(response);
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(answers.size(), batches.size());
  return answers;
}

std::vector<v1::IngestRequest> RandomBatches(uint64_t seed, int batches, int events) {
  std::mt19937_64 random(seed);
  std::vector<v1::IngestRequest> out(batches);
  for (v1::IngestRequest& batch : out) {
    for (int i = 0; i < events; ++i) {
      v1::DownloadEvent* event = batch.add_events();
      const uint64_t author = random() % 9;  // Drawn one by one: the same data on every compiler.
      event->set_model_id(absl::StrCat("org", author, "/m", random() % 40));
      event->mutable_timestamp()->set_seconds(1725148800 +
                                              static_cast<int64_t>(random() % 20) * 86400);
      event->set_count(1 + static_cast<int64_t>(random() % 100));
    }
  }
  return out;
}

// Every query of both replicas, at (at least) `token`, serialized: equal at the same version.
std::string Answers(Replica& replica, const std::string& token) {
  std::string all;
  auto ask = [&](auto method, auto request, auto response) {
    request.mutable_freshness()->set_min_version(token);
    grpc::ClientContext context;
    const grpc::Status status = ((*replica.query).*method)(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    all += response.SerializeAsString();
  };
  v1::DateRange range;
  range.mutable_start()->set_year(2024), range.mutable_start()->set_month(9);
  range.mutable_start()->set_day(3);
  range.mutable_end()->set_year(2024), range.mutable_end()->set_month(9);
  range.mutable_end()->set_day(12);
  for (const v1::DateRange* r :
       {static_cast<const v1::DateRange*>(nullptr), static_cast<const v1::DateRange*>(&range)}) {
    v1::ModalityShareRequest share;
    v1::TopNRequest top;
    top.set_n(20);
    v1::TopNRequest authors;
    authors.set_by(v1::RANK_BY_AUTHOR);
    v1::BreakdownRequest breakdown;
    breakdown.set_dimension(v1::DIMENSION_TASK);
    v1::TotalsRequest totals;
    v1::SizeDistributionRequest sizes;
    if (r != nullptr) {
      *share.mutable_range() = *r, *top.mutable_range() = *r, *authors.mutable_range() = *r;
      *breakdown.mutable_range() = *r, *totals.mutable_range() = *r, *sizes.mutable_range() = *r;
    }
    ask(&v1::QueryService::Stub::GetModalityShare, share, v1::ModalityShareResponse());
    ask(&v1::QueryService::Stub::GetTopN, top, v1::TopNResponse());
    ask(&v1::QueryService::Stub::GetTopN, authors, v1::TopNResponse());
    ask(&v1::QueryService::Stub::GetBreakdown, breakdown, v1::BreakdownResponse());
    ask(&v1::QueryService::Stub::GetTotals, totals, v1::TotalsResponse());
    ask(&v1::QueryService::Stub::GetSizeDistribution, sizes, v1::SizeDistributionResponse());
  }
  return all;
}

v1::TotalsResponse Totals(Replica& replica, const std::string& min_version, bool fresh = false) {
  v1::TotalsRequest request;
  request.mutable_freshness()->set_min_version(min_version);
  request.mutable_freshness()->set_fresh(fresh);
  v1::TotalsResponse response;
  grpc::ClientContext context;
  const grpc::Status status = replica.query->GetTotals(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

TEST(ReplicasTest, AtTheSameVersionTwoReplicasAnswerByteForByteAlike) {
  RedisServer redis;
  ServerProcess first(ServerBinary(), {"--store", "redis", "--redis", redis.url()});
  ServerProcess second(ServerBinary(), {"--store", "redis", "--redis", redis.url()});
  Replica one(first), two(second);
  std::string token;
  for (int round = 0; round < 3; ++round) {
    for (const v1::IngestResponse& answer :
         Ingest(round % 2 ? one : two, RandomBatches(round, 5, 200))) {
      token = answer.version().empty() ? token : answer.version();
    }
    v1::UpsertModelsRequest catalog;
    for (int m = 0; m < 40; m += 3) {
      v1::ModelRecord* record = catalog.add_models();
      record->set_model_id(absl::StrCat("org", (m + round) % 9, "/m", m));
      record->set_pipeline_tag(round % 2 ? "fill-mask" : "image-classification");
      record->set_num_parameters(int64_t{100'000'000} * (m + 1));
    }
    v1::UpsertModelsResponse upserted;
    grpc::ClientContext context;
    ASSERT_TRUE((round % 2 ? two : one).ingest->UpsertModels(&context, catalog, &upserted).ok());
  }
  // Everything written: fresh on one replica, then the same version asked of both.
  v1::TotalsResponse all = Totals(one, "", /*fresh=*/true);
  ASSERT_GT(all.total_downloads(), 0);
  const std::string version = all.as_of().version();
  EXPECT_FALSE(version.empty());
  const std::string from_one = Answers(one, version), from_two = Answers(two, version);
  EXPECT_EQ(from_one, from_two);
  EXPECT_EQ(Totals(two, version).as_of().version(), version);
}

TEST(ReplicasTest, MinVersionReadsAWriteMadeThroughAnotherReplica) {
  RedisServer redis;
  ServerProcess first(ServerBinary(), {"--store", "redis", "--redis", redis.url()});
  ServerProcess second(
      ServerBinary(), {"--store", "redis", "--redis", redis.url(), "--max-version-wait-ms", "300"});
  Replica one(first), two(second);
  int64_t expected = 0;
  for (int round = 0; round < 20; ++round) {
    v1::IngestRequest batch;
    v1::DownloadEvent* event = batch.add_events();
    event->set_model_id(absl::StrCat("org/m", round));
    event->set_count(round + 1);
    expected += round + 1;
    const std::vector<v1::IngestResponse> answers = Ingest(one, {batch});
    ASSERT_EQ(answers.size(), 1u);
    // Immediately on the other replica: the token makes it wait for the write.
    EXPECT_EQ(Totals(two, answers[0].version()).total_downloads(), expected) << round;
  }
  // A version the store has not reached: UNAVAILABLE after the wait, naming what it has.
  v1::TotalsRequest request;
  request.mutable_freshness()->set_min_version("0:99999999999999-0");
  v1::TotalsResponse response;
  grpc::ClientContext context;
  const auto start = std::chrono::steady_clock::now();
  const grpc::Status status = two.query->GetTotals(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("has not reached"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  // A token that is no token is the caller's mistake.
  request.mutable_freshness()->set_min_version("shard 3 please");
  grpc::ClientContext bad_context;
  EXPECT_EQ(two.query->GetTotals(&bad_context, request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// A query waiting for a version holds no worker: with one query worker, another query
// answers while it waits, and it still ends UNAVAILABLE at its bound.
TEST(ReplicasTest, AQueryWaitingForAVersionDoesNotHoldAWorker) {
  RedisServer redis;
  ServerProcess server(ServerBinary(), {"--store", "redis", "--redis", redis.url(), "--workers",
                                        "1", "--max-version-wait-ms", "3000"});
  Replica replica(server);
  Ingest(replica, RandomBatches(3, 1, 50));
  std::atomic<bool> waiting_done{false};
  grpc::Status waiting_status;
  std::thread waiting([&] {
    v1::TotalsRequest request;
    request.mutable_freshness()->set_min_version("0:99999999999999-0");  // Never reached.
    v1::TotalsResponse response;
    grpc::ClientContext context;
    waiting_status = replica.query->GetTotals(&context, request, &response);
    waiting_done = true;
  });
  // Until the waiting query has reached the server (it then waits 3 s).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_FALSE(waiting_done.load());
  for (int i = 0; i < 3; ++i) {
    const v1::TotalsResponse totals = Totals(replica, "");
    EXPECT_GT(totals.total_downloads(), 0);
    EXPECT_FALSE(waiting_done.load()) << "the other query waited for the waiting one's worker";
  }
  waiting.join();
  EXPECT_EQ(waiting_status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(waiting_status.error_message(), HasSubstr("has not reached"));
}

TEST(ReplicasTest, ARestartedReplicaLoadsTheStoreAndCatchesUp) {
  RedisServer redis;
  ServerProcess first(ServerBinary(), {"--store", "redis", "--redis", redis.url()});
  auto second = std::make_unique<ServerProcess>(
      ServerBinary(), std::vector<std::string>{"--store", "redis", "--redis", redis.url()});
  Replica one(first);
  Ingest(one, RandomBatches(1, 4, 300));
  const v1::TotalsResponse before = Totals(one, "", true);
  second->process().Stop(SIGKILL);
  second.reset();
  // Written while the second replica is down.
  std::string token;
  for (const v1::IngestResponse& answer : Ingest(one, RandomBatches(2, 4, 300))) {
    token = answer.version();
  }
  ServerProcess restarted(ServerBinary(), {"--store", "redis", "--redis", redis.url()});
  Replica two(restarted);
  const v1::TotalsResponse all = Totals(one, token);
  EXPECT_GT(all.total_downloads(), before.total_downloads());
  EXPECT_EQ(Answers(two, all.as_of().version()), Answers(one, all.as_of().version()));
}

}  // namespace
}  // namespace hubstats
