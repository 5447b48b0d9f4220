// Hostile input (issue 16, item 6), over real gRPC with TLS and a token, against a Redis-backed
// server: malformed, oversized and deeply nested messages, a million tiny events, huge and
// strange ids, counts and timestamps at every edge, totals past the exact bound, unknown enum
// values, duplicates, producer sequences reused and going backwards, absurd queries. Each gets
// its documented status code (docs/API.md). After each case the server still answers, its
// memory stays within the ingest budget plus a fixed margin, and the total downloads grew by
// exactly what the case's acknowledged answers counted.
//
// Malformed bytes on the unary RPCs are tests/integration/hardening_test.cc's
// (MalformedBytesOnEveryUnaryRpcAreInvalidArgument); here the stream's.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hostile_server.h"
#include "hubstats/v1/hubstats.grpc.pb.h"
#include "ingest_calls.h"
#include "raw_call.h"

namespace hubstats {
namespace {

using test_support::Events;
using test_support::HostileServer;
using test_support::Stream;
using test_support::StreamResult;
using test_support::TestTokens;
using ::testing::HasSubstr;

constexpr int64_t kBudgetMb = 128;
// RSS beyond the budget: gRPC's buffers, the TLS sessions, the allocator's slack.
constexpr int64_t kMarginMb = 96;

class HostileInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new HostileServer({.args = {"--max-inflight-mb", absl::StrCat(kBudgetMb)}});
    channel_ = new std::shared_ptr<grpc::Channel>(server_->Channel(TestTokens::kOps));
    query_ = v1::QueryService::NewStub(*channel_).release();
    ingest_ = v1::IngestService::NewStub(*channel_).release();
    ASSERT_TRUE(Stream(*channel_, {Events(10, "warm/up")}).status.ok());
    baseline_rss_ = test_support::MemoryOf(server_->pid(), "VmRSS");
  }
  static void TearDownTestSuite() {
    delete ingest_;
    delete query_;
    delete channel_;
    delete server_;
  }

  void SetUp() override { before_ = test_support::TotalDownloads(*query_); }

  // The promises kept whatever the case did.
  void TearDown() override {
    EXPECT_EQ(test_support::TotalDownloads(*query_), before_ + acknowledged_)
        << "the counts must equal the valid events acknowledged";
    const int64_t peak = test_support::MemoryOf(server_->pid(), "VmHWM");
    if (test_support::MemoryBoundsAreMeasurable()) {
      EXPECT_LT(peak - baseline_rss_, (kBudgetMb + kMarginMb) << 20)
          << "peak RSS grew by " << ((peak - baseline_rss_) >> 20) << " MB";
    }
  }

  // Streams `batches`, counting what was acknowledged.
  StreamResult Send(const std::vector<v1::IngestRequest>& batches) {
    StreamResult result = Stream(*channel_, batches);
    acknowledged_ += result.AcknowledgedDownloads();
    return result;
  }
  // One batch of `events`; its answer (the call must succeed).
  v1::IngestResponse SendOne(const v1::IngestRequest& batch) {
    const StreamResult result = Send({batch});
    EXPECT_TRUE(result.status.ok()) << result.status.error_message();
    return result.answers.empty() ? v1::IngestResponse() : result.answers[0];
  }

  static HostileServer* server_;
  static std::shared_ptr<grpc::Channel>* channel_;
  static v1::QueryService::Stub* query_;
  static v1::IngestService::Stub* ingest_;
  static int64_t baseline_rss_;
  int64_t before_ = 0;
  int64_t acknowledged_ = 0;
};
HostileServer* HostileInputTest::server_ = nullptr;
std::shared_ptr<grpc::Channel>* HostileInputTest::channel_ = nullptr;
v1::QueryService::Stub* HostileInputTest::query_ = nullptr;
v1::IngestService::Stub* HostileInputTest::ingest_ = nullptr;
int64_t HostileInputTest::baseline_rss_ = 0;

// The fields of every rejection of `answer`, in order.
std::vector<std::string> RejectedFields(const v1::IngestResponse& answer) {
  std::vector<std::string> fields;
  for (const v1::Rejection& rejection : answer.rejections()) fields.push_back(rejection.field());
  return fields;
}

TEST_F(HostileInputTest, MalformedBytesEndTheStreamAfterAnsweringWhatCameBefore) {
  for (const std::string& garbage : {std::string("\xff\xff\xff\xff", 4), std::string("\x0a\x7f", 2),
                                     std::string("\x00", 1), std::string("\x0b\x0b\x0b", 3)}) {
    test_support::RawBidiCall call(*channel_, "/hubstats.v1.IngestService/StreamEvents");
    ASSERT_TRUE(call.Write(Events(2, "org/before").SerializeAsString()));
    call.Write(garbage);
    call.WritesDone();
    std::optional<std::string> answer = call.Read();
    ASSERT_TRUE(answer.has_value());
    v1::IngestResponse response;
    ASSERT_TRUE(response.ParseFromString(*answer));
    EXPECT_EQ(response.accepted(), 2);
    acknowledged_ += response.accepted_downloads();
    const grpc::Status status = call.Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("request 2"));
  }
}

TEST_F(HostileInputTest, OversizedMessagesAreResourceExhausted) {
  // An ingest batch over --max-message-mb (16 MiB).
  v1::IngestRequest huge = Events(1, "org/huge");
  huge.mutable_events(0)->set_revision(std::string(17 << 20, 'r'));
  const StreamResult result = Send({Events(3, "org/small"), huge});
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // A query over --max-query-kb (64 KiB), an upsert over the message limit.
  v1::ModelStatsRequest query;
  query.set_model_id(std::string(100 << 10, 'm'));
  grpc::ClientContext context;
  v1::ModelStatsResponse stats;
  const grpc::Status big_query = query_->GetModelStats(&context, query, &stats);
  EXPECT_EQ(big_query.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(big_query.error_message(), HasSubstr("at most 65536"));
  v1::UpsertModelsRequest upsert;
  upsert.add_models()->set_model_id(std::string(17 << 20, 'u'));
  grpc::ClientContext upsert_context;
  v1::UpsertModelsResponse upserted;
  EXPECT_EQ(ingest_->UpsertModels(&upsert_context, upsert, &upserted).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Too many catalog records for one request (--max-upsert-records, 10,000).
  v1::UpsertModelsRequest many;
  for (int i = 0; i < 10'001; ++i) many.add_models()->set_model_id(absl::StrCat("org/m", i));
  grpc::ClientContext many_context;
  const grpc::Status too_many = ingest_->UpsertModels(&many_context, many, &upserted);
  EXPECT_EQ(too_many.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(too_many.error_message(), HasSubstr("models: at most 10000"));
}

// `depth` nested groups of field 99 around nothing.
std::string NestedGroups(int depth) {
  std::string bytes;
  for (int i = 0; i < depth; ++i) bytes += "\x9b\x06";  // field 99, start group
  for (int i = 0; i < depth; ++i) bytes += "\x9c\x06";  // field 99, end group
  return bytes;
}

TEST_F(HostileInputTest, DeeplyNestedMessagesAreInvalidArgument) {
  test_support::RawBidiCall call(*channel_, "/hubstats.v1.IngestService/StreamEvents");
  call.Write(NestedGroups(100'000));
  call.WritesDone();
  const grpc::Status stream = call.Finish();
  EXPECT_EQ(stream.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(stream.error_message(), HasSubstr("deep"));
  // A query nested past protobuf's recursion limit, within the query size limit.
  const grpc::Status query = test_support::RawUnaryCall(
      *channel_, "/hubstats.v1.QueryService/GetTotals", NestedGroups(10'000));
  EXPECT_EQ(query.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(HostileInputTest, AMillionTinyEventsCountExactly) {
  const std::vector<v1::IngestRequest> batches(10, Events(100'000, "tiny/events"));
  const StreamResult result = Send(batches);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.AcknowledgedDownloads(), 1'000'000);
  // A million in one message is refused whole (at most 100,000 events per batch).
  const StreamResult one = Send({Events(1'000'000, "tiny/events")});
  EXPECT_EQ(one.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(one.status.error_message(), HasSubstr("events"));
}

TEST_F(HostileInputTest, HugeAndStrangeIdsAreRejectedOneByOne) {
  const std::vector<std::string> ids = {std::string(10 << 10, 'a'),
                                        std::string(1 << 20, 'b'),
                                        "{org}/model",
                                        "org/{model}",
                                        "org/mo\ndel",
                                        std::string("org/mo\0del", 10),
                                        "org/mo\tdel",
                                        "",
                                        "org/",
                                        "/model",
                                        "org//model",
                                        "org/mo del",
                                        "org/../etc"};
  v1::IngestRequest batch;
  for (const std::string& id : ids) batch.add_events()->set_model_id(id);
  batch.add_events()->set_model_id("org/valid");
  const v1::IngestResponse answer = SendOne(batch);
  EXPECT_EQ(answer.accepted(), 1);
  EXPECT_EQ(answer.rejected(), static_cast<int64_t>(ids.size()));
  EXPECT_EQ(RejectedFields(answer), std::vector<std::string>(ids.size(), "model_id"));
  // A revision may hold braces (it is a field in Redis, never a key): counted and shown.
  v1::IngestRequest revisions = Events(1, "org/revised", "{braces}");
  revisions.add_events()->set_model_id("org/revised");
  revisions.mutable_events(1)->set_revision(std::string("rev\xff", 4));
  const v1::IngestResponse revised = SendOne(revisions);
  EXPECT_EQ(revised.accepted(), 1);
  EXPECT_EQ(RejectedFields(revised), std::vector<std::string>{"revision"});
  grpc::ClientContext context;
  v1::ModelStatsRequest request;
  request.set_model_id("org/revised");
  request.mutable_freshness()->set_fresh(true);  // The read model has applied the batch.
  v1::ModelStatsResponse stats;
  ASSERT_TRUE(query_->GetModelStats(&context, request, &stats).ok());
  ASSERT_GE(stats.revisions_size(), 1);
  EXPECT_EQ(stats.revisions(0).revision(), "{braces}");
  // Not UTF-8: inside an ingest event it refuses that event only.
  v1::IngestRequest not_utf8 = Events(1, "org/valid");
  not_utf8.add_events()->set_model_id("org/\xff\xfe");
  EXPECT_EQ(RejectedFields(SendOne(not_utf8)), std::vector<std::string>{"model_id"});
  // The same ids as catalog records.
  v1::UpsertModelsRequest upsert;
  for (const std::string& id : ids) upsert.add_models()->set_model_id(id);
  upsert.add_models()->set_model_id("org/valid");
  grpc::ClientContext upsert_context;
  v1::UpsertModelsResponse upserted;
  ASSERT_TRUE(ingest_->UpsertModels(&upsert_context, upsert, &upserted).ok());
  EXPECT_EQ(upserted.accepted(), 1);
  EXPECT_EQ(upserted.rejected(), static_cast<int64_t>(ids.size()));
  // In a catalog request, a string that is not UTF-8 makes the message malformed.
  v1::UpsertModelsRequest bad_upsert;
  bad_upsert.add_models()->set_model_id("org/\xff\xfe");
  grpc::ClientContext bad_context;
  const grpc::Status malformed = ingest_->UpsertModels(&bad_context, bad_upsert, &upserted);
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(malformed.error_message(), HasSubstr("UpsertModelsRequest"));
}

TEST_F(HostileInputTest, CountsOutsideOneToABillionAreRejected) {
  const std::vector<int64_t> bad = {0,
                                    -1,
                                    int64_t{1} << 31,
                                    int64_t{1} << 53,
                                    std::numeric_limits<int64_t>::max(),
                                    std::numeric_limits<int64_t>::min(),
                                    1'000'000'001};
  v1::IngestRequest batch;
  for (int64_t count : bad) {
    v1::DownloadEvent* event = batch.add_events();
    event->set_model_id("org/counts");
    event->set_count(count);
  }
  v1::DownloadEvent* most = batch.add_events();
  most->set_model_id("org/counts");
  most->set_count(1'000'000'000);
  batch.add_events()->set_model_id("org/counts");  // No count: 1.
  const v1::IngestResponse answer = SendOne(batch);
  EXPECT_EQ(answer.accepted(), 2);
  EXPECT_EQ(answer.accepted_downloads(), 1'000'000'001);
  EXPECT_EQ(RejectedFields(answer), std::vector<std::string>(bad.size(), "count"));
}

TEST_F(HostileInputTest, AnAuthorsTotalStopsExactlyBelowTwoToThe53) {
  // 1e9 per event: 90 batches of 100,000 reach 9e15, just below 2^53 - 1 (9,007,199,254,740,991);
  // the next batch would pass it and is rejected whole for that author, the rest of the
  // batch (another author) counts.
  v1::IngestRequest batch;
  for (int i = 0; i < 100'000; ++i) {
    v1::DownloadEvent* event = batch.add_events();
    event->set_model_id("bound/model");
    event->set_count(1'000'000'000);
  }
  const std::vector<v1::IngestRequest> batches(90, batch);
  const StreamResult filled = Send(batches);
  ASSERT_TRUE(filled.status.ok()) << filled.status.error_message();
  EXPECT_EQ(filled.AcknowledgedDownloads(), 9'000'000'000'000'000);
  v1::IngestRequest over = batch;
  over.mutable_events(0)->set_model_id("other/model");
  const v1::IngestResponse answer = SendOne(over);
  EXPECT_EQ(answer.accepted(), 1);
  EXPECT_EQ(answer.rejected(), 99'999);
  ASSERT_GT(answer.rejections_size(), 0);
  EXPECT_EQ(answer.rejections(0).field(), "count");
  // What is left below the bound still fits.
  v1::IngestRequest rest;
  const int64_t room = (int64_t{1} << 53) - 1 - 9'000'000'000'000'000;
  for (int64_t left = room; left > 0; left -= 1'000'000'000) {
    v1::DownloadEvent* event = rest.add_events();
    event->set_model_id("bound/model");
    event->set_count(std::min<int64_t>(left, 1'000'000'000));
  }
  const v1::IngestResponse fits = SendOne(rest);
  EXPECT_EQ(fits.rejected(), 0);
  EXPECT_EQ(fits.accepted_downloads(), room);
  grpc::ClientContext context;
  v1::TopNRequest top;
  top.set_n(1);
  top.set_by(v1::RANK_BY_AUTHOR);
  top.mutable_freshness()->set_fresh(true);  // The read model follows the store.
  v1::TopNResponse response;
  ASSERT_TRUE(query_->GetTopN(&context, top, &response).ok());
  ASSERT_EQ(response.rows_size(), 1);
  EXPECT_EQ(response.rows(0).id(), "bound");
  EXPECT_EQ(response.rows(0).downloads(), (int64_t{1} << 53) - 1);
}

TEST_F(HostileInputTest, TimestampsOutsideTheWindowAreRejected) {
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  const std::vector<std::pair<int64_t, int32_t>> bad = {
      {std::numeric_limits<int64_t>::min(), 0},
      {std::numeric_limits<int64_t>::max(), 0},
      {-1, 0},
      {0, 0},
      {1'420'070'399, 999'999'999},  // 2014-12-31T23:59:59.999999999Z
      {now + 25 * 3600, 0},
      {now, -1},
      {now, 1'000'000'000},
      {253'402'300'800, 0}};  // 10000-01-01
  v1::IngestRequest batch;
  for (const auto& [seconds, nanos] : bad) {
    v1::DownloadEvent* event = batch.add_events();
    event->set_model_id("org/time");
    event->mutable_timestamp()->set_seconds(seconds);
    event->mutable_timestamp()->set_nanos(nanos);
  }
  v1::DownloadEvent* first = batch.add_events();
  first->set_model_id("org/time");
  first->mutable_timestamp()->set_seconds(1'420'070'400);  // 2015-01-01T00:00:00Z
  const v1::IngestResponse answer = SendOne(batch);
  EXPECT_EQ(answer.accepted(), 1);
  EXPECT_EQ(RejectedFields(answer), std::vector<std::string>(bad.size(), "timestamp"));
}

TEST_F(HostileInputTest, UnknownEnumValuesAreRefused) {
  v1::UpsertModelsRequest upsert;
  v1::ModelRecord* modality = upsert.add_models();
  modality->set_model_id("org/enum-a");
  modality->set_modality(static_cast<v1::Modality>(99));
  v1::ModelRecord* architecture = upsert.add_models();
  architecture->set_model_id("org/enum-b");
  architecture->set_architecture(static_cast<v1::Architecture>(-5));
  grpc::ClientContext context;
  v1::UpsertModelsResponse upserted;
  ASSERT_TRUE(ingest_->UpsertModels(&context, upsert, &upserted).ok());
  EXPECT_EQ(upserted.rejected(), 2);
  auto code = [&](auto call) {
    grpc::ClientContext query_context;
    return call(query_context).error_code();
  };
  EXPECT_EQ(code([&](grpc::ClientContext& c) {
              v1::SizeDistributionRequest request;
              request.set_modality(static_cast<v1::Modality>(99));
              v1::SizeDistributionResponse response;
              return query_->GetSizeDistribution(&c, request, &response);
            }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(code([&](grpc::ClientContext& c) {
              v1::BreakdownRequest request;
              request.set_dimension(static_cast<v1::Dimension>(1 << 30));
              v1::BreakdownResponse response;
              return query_->GetBreakdown(&c, request, &response);
            }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(code([&](grpc::ClientContext& c) {
              v1::TopNRequest request;
              request.set_by(static_cast<v1::RankBy>(7));
              v1::TopNResponse response;
              return query_->GetTopN(&c, request, &response);
            }),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(HostileInputTest, DuplicatesWithinABatch) {
  // Two events of one model are two downloads.
  EXPECT_EQ(SendOne(Events(2, "org/twice")).accepted_downloads(), 2);
  // Two records of one model: the later wins.
  v1::UpsertModelsRequest upsert;
  for (const char* tag : {"text-generation", "image-classification"}) {
    v1::ModelRecord* record = upsert.add_models();
    record->set_model_id("org/twice");
    record->set_pipeline_tag(tag);
  }
  grpc::ClientContext context;
  v1::UpsertModelsResponse upserted;
  ASSERT_TRUE(ingest_->UpsertModels(&context, upsert, &upserted).ok());
  grpc::ClientContext stats_context;
  v1::ModelStatsRequest request;
  request.set_model_id("org/twice");
  // Answered from the read model: it must have applied the upsert (everything acknowledged).
  request.mutable_freshness()->set_fresh(true);
  v1::ModelStatsResponse stats;
  ASSERT_TRUE(query_->GetModelStats(&stats_context, request, &stats).ok());
  EXPECT_EQ(stats.record().pipeline_tag(), "image-classification");
  EXPECT_EQ(stats.modality(), v1::MODALITY_COMPUTER_VISION);
}

v1::IngestRequest Numbered(const std::string& producer, uint64_t sequence, int events) {
  v1::IngestRequest batch = Events(events, "org/sequenced");
  batch.set_producer_id(producer);
  batch.set_sequence(sequence);
  return batch;
}

TEST_F(HostileInputTest, ReusedAndBackwardSequencesAreFailedPrecondition) {
  const std::string producer = "hostile-sequences";
  EXPECT_FALSE(SendOne(Numbered(producer, 1, 3)).duplicate());
  // The same batch again: a duplicate, counted once.
  const v1::IngestResponse again = SendOne(Numbered(producer, 1, 3));
  EXPECT_TRUE(again.duplicate());
  // The same sequence with other content.
  const StreamResult changed = Send({Numbered(producer, 1, 4)});
  EXPECT_EQ(changed.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(changed.status.error_message(), HasSubstr("sequence"));
  // Forward with a gap, then back below it to a sequence never sent.
  EXPECT_FALSE(SendOne(Numbered(producer, 5, 2)).duplicate());
  const StreamResult backwards = Send({Numbered(producer, 3, 2)});
  EXPECT_EQ(backwards.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  // The producer goes on from where it was.
  EXPECT_FALSE(SendOne(Numbered(producer, 6, 1)).duplicate());
  // Ids and sequences outside their rules.
  for (const v1::IngestRequest& bad :
       {Numbered("", 1, 1), Numbered("has space", 1, 1), Numbered(std::string(129, 'p'), 1, 1),
        Numbered(producer, 0, 1), Numbered(producer, uint64_t{1} << 53, 1)}) {
    EXPECT_EQ(Send({bad}).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << bad.producer_id() << " " << bad.sequence();
  }
}

TEST_F(HostileInputTest, AbsurdQueryParametersAreInvalidArgument) {
  auto top = [&](int32_t n) {
    grpc::ClientContext context;
    v1::TopNRequest request;
    request.set_n(n);
    v1::TopNResponse response;
    return query_->GetTopN(&context, request, &response);
  };
  for (int32_t n :
       {-1, 10'001, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()}) {
    const grpc::Status status = top(n);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << n;
    EXPECT_THAT(status.error_message(), HasSubstr("n:")) << n;
  }
  auto totals = [&](int32_t y1, int32_t m1, int32_t d1, int32_t y2, int32_t m2, int32_t d2) {
    grpc::ClientContext context;
    v1::TotalsRequest request;
    *request.mutable_range()->mutable_start() = [&] {
      v1::Date date;
      date.set_year(y1);
      date.set_month(m1);
      date.set_day(d1);
      return date;
    }();
    v1::Date* end = request.mutable_range()->mutable_end();
    end->set_year(y2);
    end->set_month(m2);
    end->set_day(d2);
    v1::TotalsResponse response;
    return query_->GetTotals(&context, request, &response);
  };
  for (const auto& [y, m, d] :
       std::vector<std::tuple<int, int, int>>{{0, 1, 1},
                                              {10'000, 1, 1},
                                              {2024, 13, 1},
                                              {2024, 0, 1},
                                              {2024, 1, 32},
                                              {2023, 2, 29},
                                              {-2024, 1, 1},
                                              {std::numeric_limits<int32_t>::max(), 1, 1}}) {
    const grpc::Status status = totals(y, m, d, 2025, 1, 1);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << y << "-" << m << "-" << d;
    EXPECT_THAT(status.error_message(), HasSubstr("range.start"));
  }
  const grpc::Status reversed = totals(2024, 9, 30, 2024, 9, 1);
  EXPECT_EQ(reversed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(reversed.error_message(), HasSubstr("range.end"));
  EXPECT_TRUE(totals(1970, 1, 1, 9999, 12, 31).ok()) << "the widest range is fine";
  auto sizes = [&](const std::vector<int64_t>& boundaries) {
    grpc::ClientContext context;
    v1::SizeDistributionRequest request;
    for (int64_t boundary : boundaries) request.add_boundaries(boundary);
    v1::SizeDistributionResponse response;
    return query_->GetSizeDistribution(&context, request, &response);
  };
  std::vector<int64_t> thousand(1000, 1'000'000);
  for (const std::vector<int64_t>& boundaries : {std::vector<int64_t>{0},
                                                 {500'000'000, 200'000'000},
                                                 {200'000'000, 200'000'000},
                                                 {-1'000'000},
                                                 {std::numeric_limits<int64_t>::max()},
                                                 thousand}) {
    const grpc::Status status = sizes(boundaries);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("boundaries"));
  }
  for (const std::string& id :
       {std::string(), std::string(60 << 10, 'x'), std::string("a\0b", 3)}) {
    grpc::ClientContext context;
    v1::ModelStatsRequest request;
    request.set_model_id(id);
    v1::ModelStatsResponse response;
    const grpc::Status status = query_->GetModelStats(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("model_id"));
  }
  // Version tokens (freshness.min_version) that are not tokens of this server's shards are
  // refused; one from the far future waits --max-version-wait-ms (2 s), no longer.
  auto totals_at = [&](const std::string& min_version) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::TotalsRequest request;
    request.mutable_freshness()->set_min_version(min_version);
    v1::TotalsResponse response;
    return query_->GetTotals(&context, request, &response);
  };
  for (const std::string& token :
       {std::string("garbage"), std::string("99999:1-1"), std::string("-1:1-1"),
        std::string("0:1-99999999999999999999999"), std::string("0:1-1\0", 6),
        std::string(60 << 10, '9')}) {
    const grpc::Status status = totals_at(token);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << token.substr(0, 40);
    EXPECT_THAT(status.error_message(), HasSubstr("min_version")) << token.substr(0, 40);
  }
  const auto start = std::chrono::steady_clock::now();
  const grpc::Status future = totals_at("0:18446744073709551615-0");
  EXPECT_EQ(future.error_code(), grpc::StatusCode::UNAVAILABLE) << future.error_message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

}  // namespace
}  // namespace hubstats
