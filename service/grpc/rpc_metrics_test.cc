// The RPC metrics interceptor on a real in-process server (loopback) with the hubstats
// services on a MemoryStore: every call is counted once, by method and status code.
#include "grpc/rpc_metrics.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "app/follower.h"
#include "app/group_commit.h"
#include "app/ingest_budget.h"
#include "app/worker_pool.h"
#include "gmock/gmock.h"
#include "grpc/ingest_service.h"
#include "grpc/query_service.h"
#include "gtest/gtest.h"
#include "hubstats/v1/hubstats.grpc.pb.h"
#include "store/memory_store.h"
#include "telemetry/prometheus_text.h"

namespace hubstats {
namespace {

// The value of the sample `series` (name and labels, as written) in a scrape; -1 if absent.
int64_t SampleOf(const std::string& scrape, const std::string& series) {
  return static_cast<int64_t>(telemetry::ReadSample(scrape, series).value_or(-1));
}

std::string Handled(const std::string& method, const std::string& code) {
  return absl::StrCat("hubstats_grpc_server_handled_total{method=\"", method, "\",code=\"", code,
                      "\"}");
}

std::string Of(const std::string& metric, const std::string& method) {
  return absl::StrCat(metric, "{method=\"", method, "\"}");
}

constexpr char kTotals[] = "/hubstats.v1.QueryService/GetTotals";
constexpr char kTopN[] = "/hubstats.v1.QueryService/GetTopN";
constexpr char kStream[] = "/hubstats.v1.IngestService/StreamEvents";

TEST(RpcMetricsTest, CountsEveryCallByMethodAndCodeAndEveryMessage) {
  MemoryStore store;
  ReadModel model(TaskTable::BuiltIn(), store.shard_count());
  Follower follower(store, model);
  ASSERT_TRUE(follower.CatchUp().ok());  // Queries answer once the model is loaded.
  StatsService service(store, TaskTable::BuiltIn(), model);
  WorkerPool workers(2);
  IngestBudget budget(64 << 20);
  GroupCommitter committer(service, {});
  IngestServiceImpl ingest(service, workers, budget, committer, IngestLimits{});
  QueryServiceImpl query(service, workers);
  telemetry::Registry registry;

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&ingest);
  builder.RegisterService(&query);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<RpcMetrics>(registry));
  builder.experimental().SetInterceptorCreators(std::move(creators));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  auto queries = v1::QueryService::NewStub(channel);
  auto ingests = v1::IngestService::NewStub(channel);

  constexpr int kTotalsCalls = 3;
  for (int i = 0; i < kTotalsCalls; ++i) {
    grpc::ClientContext context;
    v1::TotalsRequest request;
    v1::TotalsResponse response;
    ASSERT_TRUE(queries->GetTotals(&context, request, &response).ok());
  }
  {
    grpc::ClientContext context;
    v1::TopNRequest request;
    request.set_n(-1);
    v1::TopNResponse response;
    EXPECT_EQ(queries->GetTopN(&context, request, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  constexpr int kBatches = 5;
  {
    grpc::ClientContext context;
    auto stream = ingests->StreamEvents(&context);
    for (int i = 0; i < kBatches; ++i) {
      v1::IngestRequest request;
      request.add_events()->set_model_id("org/model");
      ASSERT_TRUE(stream->Write(request));
      v1::IngestResponse response;
      ASSERT_TRUE(stream->Read(&response));
    }
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
  }
  {
    // A stream the client abandons: no status is ever sent for it.
    grpc::ClientContext context;
    auto stream = ingests->StreamEvents(&context);
    v1::IngestRequest request;
    request.add_events()->set_model_id("org/model");
    ASSERT_TRUE(stream->Write(request));
    v1::IngestResponse response;
    ASSERT_TRUE(stream->Read(&response));
    context.TryCancel();
    stream->Finish();
  }
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server->Wait();

  const std::string scrape = registry.Scrape();
  EXPECT_EQ(SampleOf(scrape, Handled(kTotals, "OK")), kTotalsCalls) << scrape;
  EXPECT_EQ(SampleOf(scrape, Of("hubstats_grpc_server_started_total", kTotals)), kTotalsCalls);
  EXPECT_EQ(SampleOf(scrape, Of("hubstats_grpc_server_handling_seconds_count", kTotals)),
            kTotalsCalls);
  EXPECT_EQ(SampleOf(scrape, Handled(kTopN, "INVALID_ARGUMENT")), 1);
  EXPECT_EQ(SampleOf(scrape, Handled(kTopN, "OK")), -1);
  EXPECT_EQ(SampleOf(scrape, Handled(kStream, "OK")), 1);
  EXPECT_EQ(SampleOf(scrape, Handled(kStream, "CANCELLED")), 1);
  EXPECT_EQ(SampleOf(scrape, Of("hubstats_grpc_server_started_total", kStream)), 2);
  EXPECT_EQ(SampleOf(scrape, Of("hubstats_grpc_server_msg_received_total", kStream)), kBatches + 1);
  EXPECT_EQ(SampleOf(scrape, Of("hubstats_grpc_server_msg_sent_total", kStream)), kBatches + 1);
}

TEST(RpcMetricsTest, StatusCodesAreNamedAsGrpcNamesThem) {
  EXPECT_STREQ(StatusCodeName(grpc::StatusCode::OK), "OK");
  EXPECT_STREQ(StatusCodeName(grpc::StatusCode::UNAVAILABLE), "UNAVAILABLE");
  EXPECT_STREQ(StatusCodeName(grpc::StatusCode::UNAUTHENTICATED), "UNAUTHENTICATED");
  // Not a code gRPC defines, but within the enum's range (a value outside it would be undefined
  // behaviour, as UBSan says).
  EXPECT_STREQ(StatusCodeName(static_cast<grpc::StatusCode>(20)), "UNKNOWN");
}

}  // namespace
}  // namespace hubstats
