// Reliable ingestion against an in-process fake server: how batches are cut, what is rejected
// here, and when a run gives up. The real server, Redis and injected faults are exercised in
// tests/fault and tests/e2e.
#include "ingest.h"

#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/batch.h"
#include "fake_ingest_server.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace hubstats::cli {
namespace {

using ::testing::HasSubstr;

IngestSummary Ingest(const std::string& text, const IngestSettings& settings,
                     InputFormat format = InputFormat::kJsonLines) {
  std::istringstream stream(text);
  auto reader = InputReader::Open(stream, format, ItemKind::kEvent, settings.batch_bytes);
  EXPECT_TRUE(reader.ok()) << reader.status();
  return IngestEvents(**reader, settings, [](const std::string&) {});
}

IngestSettings Settings(const std::string& target, const std::string& producer) {
  IngestSettings settings;
  settings.targets = {target};
  settings.producer_id = producer;
  return settings;
}

// Events with revisions of varied length: requests differ in size.
std::string VariedEvents(int count) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    absl::StrAppend(&text, R"({"model_id": "org/m)", i % 7, R"(", "count": )", 1 + i % 5,
                    R"(, "revision": ")", std::string(100 + (i * 37) % 900, 'r'), "\"}\n");
  }
  return text;
}

TEST(IngestTest, CutsBatchesByBytesDeterministically) {
  FakeIngestServer server;
  IngestSettings settings = Settings(server.target(), "job-bytes");
  settings.batch_size = 1000;
  settings.batch_bytes = 8 << 10;
  const std::string text = VariedEvents(300);
  const IngestSummary summary = Ingest(text, settings);
  ASSERT_TRUE(summary.status.ok()) << summary.status.error_message();
  EXPECT_EQ(summary.accepted, 300);
  EXPECT_EQ(summary.rejected, 0);

  const std::vector<v1::IngestRequest> requests = server.ingest_requests();
  ASSERT_GT(requests.size(), 10u);
  // Sent in columns (IngestRequest.packed).
  EXPECT_EQ(server.packed_requests.load(), static_cast<int>(requests.size()));
  int events = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    const v1::IngestRequest& request = requests[i];
    EXPECT_EQ(request.sequence(), i + 1);
    EXPECT_EQ(request.producer_id(), "job-bytes");
    EXPECT_LE(request.ByteSizeLong(), static_cast<size_t>(settings.batch_bytes));
    events += request.events_size();
    if (i + 1 < requests.size()) {
      // Full: the next batch's first event would not have fitted, within the 16 bytes kept
      // for the request's own fields (producer id and sequence).
      v1::IngestRequest grown = request;
      *grown.add_events() = requests[i + 1].events(0);
      EXPECT_GT(grown.ByteSizeLong(), static_cast<size_t>(settings.batch_bytes - 16)) << i;
    }
  }
  EXPECT_EQ(events, 300);

  // The same file and settings make the same batches: a re-run re-sends them as they were.
  FakeIngestServer again;
  settings.targets = {again.target()};
  ASSERT_TRUE(Ingest(text, settings).status.ok());
  const std::vector<v1::IngestRequest> rerun = again.ingest_requests();
  ASSERT_EQ(rerun.size(), requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(rerun[i], requests[i])) << i;
  }
}

TEST(IngestTest, CutsBatchesByCountToo) {
  FakeIngestServer server;
  IngestSettings settings = Settings(server.target(), "job-count");
  settings.batch_size = 7;
  ASSERT_TRUE(Ingest(VariedEvents(50), settings).status.ok());
  std::vector<int> sizes;
  for (const v1::IngestRequest& request : server.ingest_requests()) {
    sizes.push_back(request.events_size());
  }
  EXPECT_THAT(sizes, ::testing::ElementsAre(7, 7, 7, 7, 7, 7, 7, 1));
}

TEST(IngestTest, ALineTooLargeForAnyBatchIsRejectedByItsNumber) {
  FakeIngestServer server;
  IngestSettings settings = Settings(server.target(), "job-large");
  settings.batch_bytes = 4 << 10;
  const std::string text =
      absl::StrCat(R"({"model_id": "org/a", "count": 2})", "\n",
                   R"({"model_id": "bad/b", "count": 3})", "\n",  // Refused by the (fake) server.
                   R"({"model_id": "org/c", "revision": ")", std::string(10'000, 'x'), "\"}\n",
                   R"({"model_id": "org/d", "count": 4})", "\n");
  const IngestSummary summary = Ingest(text, settings);
  ASSERT_TRUE(summary.status.ok()) << summary.status.error_message();
  EXPECT_EQ(summary.accepted, 2);
  EXPECT_EQ(summary.accepted_downloads, 6);
  EXPECT_EQ(summary.rejected, 2);
  ASSERT_EQ(summary.errors.size(), 2u);
  EXPECT_EQ(summary.errors[0].line, 2);
  EXPECT_EQ(summary.errors[1].line, 3);
  EXPECT_THAT(summary.errors[1].reason, HasSubstr("more than the 4 KiB one item may hold"));
  for (const v1::IngestRequest& request : server.ingest_requests()) {
    for (const v1::DownloadEvent& event : request.events()) EXPECT_NE(event.model_id(), "org/c");
  }
}

TEST(IngestTest, FailsFastWhenNoServerEverAnswered) {
  IngestSettings settings = Settings(UnusedTarget(), "job-nobody");
  settings.targets.push_back(UnusedTarget());
  const absl::Time started = absl::Now();
  const IngestSummary summary = Ingest(R"({"model_id": "org/a"})", settings);
  EXPECT_LT(absl::Now() - started, absl::Seconds(10));
  EXPECT_EQ(summary.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(summary.status.error_message(), HasSubstr("no server answered at "));
  EXPECT_THAT(summary.status.error_message(), HasSubstr("give --retry-for"));
  EXPECT_EQ(summary.reconnects, 1);  // The second target was tried too.
}

TEST(IngestTest, RetriesBeforeContactWhenAskedTo) {
  IngestSettings settings = Settings(UnusedTarget(), "job-wait");
  settings.retry_before_contact = true;
  settings.retry_for = absl::Milliseconds(800);
  const absl::Time started = absl::Now();
  const IngestSummary summary = Ingest(R"({"model_id": "org/a"})", settings);
  EXPECT_GE(absl::Now() - started, absl::Milliseconds(800));
  EXPECT_THAT(summary.status.error_message(), HasSubstr("gave up after 800ms without progress"));
  EXPECT_GE(summary.reconnects, 2);
}

TEST(IngestTest, ReadsCsv) {
  FakeIngestServer server;
  const IngestSummary summary = Ingest("model_id,count\norg/a,2\norg/b,x\norg/c,5\n",
                                       Settings(server.target(), "job-csv"), InputFormat::kCsv);
  EXPECT_EQ(summary.accepted, 2);
  EXPECT_EQ(summary.accepted_downloads, 7);
  ASSERT_EQ(summary.errors.size(), 1u);
  EXPECT_EQ(summary.errors[0].line, 3);
  EXPECT_THAT(summary.errors[0].reason, HasSubstr("count: must be a whole number"));
}

TEST(IngestHelpersTest, ProducerIdsAreValidAndFresh) {
  const std::string first = NewProducerId(), second = NewProducerId();
  EXPECT_TRUE(ValidateProducer(first, 1).ok()) << first;
  EXPECT_NE(first, second);
  EXPECT_EQ(first.rfind("cli-", 0), 0u);
}

TEST(IngestHelpersTest, RetriesOnlyWhatAnotherTryCanFix) {
  EXPECT_TRUE(IsRetryable(grpc::StatusCode::UNAVAILABLE));
  EXPECT_TRUE(IsRetryable(grpc::StatusCode::DEADLINE_EXCEEDED));
  EXPECT_TRUE(IsRetryable(grpc::StatusCode::INTERNAL));
  EXPECT_FALSE(IsRetryable(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_FALSE(IsRetryable(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_FALSE(IsRetryable(grpc::StatusCode::UNIMPLEMENTED));
}

}  // namespace
}  // namespace hubstats::cli
