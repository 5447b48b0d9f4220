// Hostile behaviour on streams (issue 16, items 4 and 6): 200 idle streams, a client that never
// reads its acknowledgements, a client that disconnects mid-stream, more calls than the server
// takes, more streams on one connection than it allows, one client trying to hold all the
// ingest memory, and a token ingesting faster than its rate. The server keeps serving others,
// its memory stays bounded and the counts stay exact.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hostile_server.h"
#include "hubstats/v1/hubstats.grpc.pb.h"
#include "ingest_calls.h"

namespace hubstats {
namespace {

using test_support::Events;
using test_support::HostileServer;
using test_support::Stream;
using test_support::StreamResult;
using test_support::TestTokens;
using ::testing::HasSubstr;

using Clock = std::chrono::steady_clock;

// A stream held open by the test: it writes what it is told and reads nothing unless asked.
class OpenStream {
 public:
  explicit OpenStream(const std::shared_ptr<grpc::Channel>& channel)
      : stub_(v1::IngestService::NewStub(channel)) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    stream_ = stub_->StreamEvents(&context_);
  }
  // Cancels the call unless it was finished.
  ~OpenStream() {
    if (!finished_) {
      Cancel();
      Finish();
    }
  }
  bool Write(const v1::IngestRequest& batch) { return stream_->Write(batch); }
  void Cancel() { context_.TryCancel(); }
  // Says the client is done writing, then reads until the server ends the call; its status.
  grpc::Status Finish(std::vector<v1::IngestResponse>* answers = nullptr) {
    stream_->WritesDone();
    return AwaitEnd(answers);
  }
  // Reads, writing nothing more, until the server ends the call; its status.
  grpc::Status AwaitEnd(std::vector<v1::IngestResponse>* answers = nullptr) {
    finished_ = true;
    v1::IngestResponse response;
    while (stream_->Read(&response)) {
      if (answers != nullptr) answers->push_back(response);
    }
    return stream_->Finish();
  }

 private:
  std::unique_ptr<v1::IngestService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::IngestRequest, v1::IngestResponse>> stream_;
  bool finished_ = false;
};

int64_t Rss(HostileServer& server) { return test_support::MemoryOf(server.pid(), "VmRSS"); }

TEST(HostileStreamsTest, TwoHundredIdleStreamsAreClosedAndOthersServedMeanwhile) {
  HostileServer server({.args = {"--stream-idle-timeout-s", "2"}});
  const auto channel = server.Channel(TestTokens::kOps);
  auto query = v1::QueryService::NewStub(channel);
  const int64_t before = test_support::TotalDownloads(*query);
  const int64_t baseline = Rss(server);
  std::vector<std::unique_ptr<OpenStream>> idle;
  // On separate connections, like 200 clients.
  for (int i = 0; i < 200; ++i) {
    idle.push_back(std::make_unique<OpenStream>(server.Channel(TestTokens::kOps)));
  }
  // While they sit there, a real client ingests and queries.
  const StreamResult busy = Stream(channel, {Events(7, "org/busy")});
  ASSERT_TRUE(busy.status.ok()) << busy.status.error_message();
  const auto start = Clock::now();
  int closed = 0;
  for (auto& stream : idle) {
    // No WritesDone: a half-closed stream would end normally, and the test is whether the
    // server ends the idle ones by itself.
    const grpc::Status status = stream->AwaitEnd();
    closed += status.error_code() == grpc::StatusCode::UNAVAILABLE &&
              status.error_message().find("no batch for") != std::string::npos;
  }
  EXPECT_EQ(closed, 200);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(30));
  EXPECT_EQ(test_support::TotalDownloads(*query), before + 7);
  EXPECT_LT(Rss(server) - baseline, int64_t{200} << 20);
}

TEST(HostileStreamsTest, AClientThatNeverReadsHoldsOnlyItsShare) {
  // Small batches so the quota (3 MB per client, 2 reads' reservations) is reached quickly.
  HostileServer server({.args = {"--max-message-mb", "1", "--max-batch-events", "1000",
                                 "--max-inflight-mb", "16", "--max-client-inflight-mb", "3"}});
  auto query = v1::QueryService::NewStub(server.Channel(TestTokens::kOps));
  const int64_t before = test_support::TotalDownloads(*query);
  const int64_t baseline = Rss(server);
  // The greedy client (token "writer") writes big batches on 6 streams and reads nothing.
  std::vector<std::unique_ptr<OpenStream>> greedy;
  std::atomic<int> written{0};
  std::vector<std::thread> writers;
  v1::IngestRequest batch = Events(1000, "greedy/model", std::string(250, 'r'));
  for (int s = 0; s < 6; ++s) {
    greedy.push_back(std::make_unique<OpenStream>(server.Channel(TestTokens::kWriter)));
  }
  for (auto& stream : greedy) {
    writers.emplace_back([&, raw = stream.get()] {
      for (int i = 0; i < 200 && raw->Write(batch); ++i) ++written;
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));
  // Another client is served at once, by the memory the greedy one cannot take.
  const auto start = Clock::now();
  const StreamResult other = Stream(server.Channel(TestTokens::kOtherWriter),
                                    {Events(11, "other/model"), Events(11, "other/model")}, 20);
  EXPECT_TRUE(other.status.ok()) << other.status.error_message();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
  EXPECT_LT(written.load(), 6 * 200) << "flow control must hold the greedy client back";
  if (test_support::MemoryBoundsAreMeasurable()) {
    EXPECT_LT(Rss(server) - baseline, int64_t{64} << 20);
  }
  // The greedy client goes away without reading: what was acknowledged (and only that) plus
  // the other client's counts.
  int64_t greedy_acknowledged = 0;
  for (auto& stream : greedy) stream->Cancel();
  for (std::thread& writer : writers) writer.join();
  for (auto& stream : greedy) {
    std::vector<v1::IngestResponse> answers;
    stream->Finish(&answers);
    for (const auto& answer : answers) greedy_acknowledged += answer.accepted_downloads();
  }
  // Batches committed but whose answers were never read may have counted: the total lies
  // between what was acknowledged and what was written.
  const int64_t total = test_support::TotalDownloads(*query) - before - 22;
  EXPECT_GE(total, greedy_acknowledged);
  EXPECT_LE(total, int64_t{written.load()} * 1000);
  EXPECT_EQ(total % 1000, 0) << "whole batches only";
}

TEST(HostileStreamsTest, AClientThatDisconnectsMidStreamLosesNothingWhenItResends) {
  HostileServer server;
  const auto channel = server.Channel(TestTokens::kOps);
  auto query = v1::QueryService::NewStub(channel);
  const int64_t before = test_support::TotalDownloads(*query);
  std::vector<v1::IngestRequest> batches;
  for (int i = 1; i <= 50; ++i) {
    v1::IngestRequest batch = Events(1000, "org/resent");
    batch.set_producer_id("hostile-disconnect");
    batch.set_sequence(i);
    batches.push_back(batch);
  }
  // Half the batches, then the connection is cut without a goodbye.
  {
    OpenStream stream(channel);
    for (int i = 0; i < 25; ++i) stream.Write(batches[i]);
    stream.Cancel();
    EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // The exactly-once client re-sends everything it has not seen acknowledged: here, all.
  const StreamResult resent = Stream(server.Channel(TestTokens::kOps), batches);
  ASSERT_TRUE(resent.status.ok()) << resent.status.error_message();
  ASSERT_EQ(resent.answers.size(), 50u);
  EXPECT_EQ(test_support::TotalDownloads(*query), before + 50 * 1000);
  EXPECT_EQ(test_support::HealthOf(channel), 1);
}

TEST(HostileStreamsTest, CallsBeyondTheServersLimitAreResourceExhausted) {
  // Small batches: the open streams' read reservations do not fill the client's quota.
  HostileServer server({.args = {"--max-concurrent-calls", "20", "--max-message-mb", "1",
                                 "--max-batch-events", "1000"}});
  std::vector<std::unique_ptr<OpenStream>> open;
  for (int i = 0; i < 20; ++i) {
    open.push_back(std::make_unique<OpenStream>(server.Channel(TestTokens::kOps)));
    open.back()->Write(Events(1, "org/open"));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const StreamResult refused = Stream(server.Channel(TestTokens::kOps), {Events(1, "org/late")});
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.status.error_message(), HasSubstr("--max-concurrent-calls"));
  grpc::ClientContext context;
  v1::TotalsResponse totals;
  EXPECT_EQ(v1::QueryService::NewStub(server.Channel(TestTokens::kOps))
                ->GetTotals(&context, v1::TotalsRequest(), &totals)
                .error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Health is not a hubstats call: it is always answered.
  EXPECT_EQ(test_support::HealthOf(server.Channel("")), 1);
  open.pop_back();  // Ends one call: room for one more.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(Stream(server.Channel(TestTokens::kOps), {Events(1, "org/late")}).status.ok());
}

TEST(HostileStreamsTest, StreamsBeyondAConnectionsLimitWaitForRoom) {
  HostileServer server({.args = {"--max-streams-per-connection", "4", "--max-message-mb", "1",
                                 "--max-batch-events", "1000"}});
  const auto channel = server.Channel(TestTokens::kOps);  // One connection for all.
  std::vector<std::unique_ptr<OpenStream>> open;
  for (int i = 0; i < 4; ++i) open.push_back(std::make_unique<OpenStream>(channel));
  std::atomic<bool> done{false};
  std::thread fifth([&] {
    EXPECT_TRUE(Stream(channel, {Events(1, "org/fifth")}).status.ok());
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_FALSE(done.load()) << "the fifth stream must wait while four are open";
  open.front()->Finish();
  open.erase(open.begin());
  fifth.join();
  EXPECT_TRUE(done.load());
}

TEST(HostileStreamsTest, ATokensIngestRateIsHeld) {
  HostileServer server;
  // "slow" may ingest 50,000 events/s: 200,000 take at least (200,000 - 50,000 held in the
  // bucket - 10,000 of the batch read while in credit) / 50,000 = 2.8 s.
  const std::vector<v1::IngestRequest> batches(20, Events(10'000, "org/rate"));
  const auto start = Clock::now();
  const StreamResult result = Stream(server.Channel(TestTokens::kSlow), batches);
  const auto elapsed = Clock::now() - start;
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.AcknowledgedDownloads(), 200'000);
  EXPECT_GE(elapsed, std::chrono::milliseconds(2800));
  EXPECT_LT(elapsed, std::chrono::seconds(30));
  // Another token is not slowed down by it.
  const auto other_start = Clock::now();
  ASSERT_TRUE(Stream(server.Channel(TestTokens::kOps), batches).status.ok());
  EXPECT_LT(Clock::now() - other_start, elapsed);
}

}  // namespace
}  // namespace hubstats
