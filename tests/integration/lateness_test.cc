// Late events end to end: a server allowing 7 days counts events of the last week before its
// day and refuses older ones, naming the field and the reason, while the rest of the batch
// counts exactly once; with --max-lateness-days any (what backfills use) every day counts.
#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hubstats/v1/hubstats.grpc.pb.h"
#include "ingest_calls.h"
#include "redis_server.h"

namespace hubstats {
namespace {

using test_support::Connection;
using test_support::ServerProcess;
using ::testing::HasSubstr;

// Noon (UTC) `days` days before now: days away from any midnight the test could cross, so the
// server's day is the test's, or one later (which only makes the old events older).
int64_t NoonDaysAgo(int days) {
  const int64_t today = absl::ToUnixSeconds(absl::Now()) / 86400 * 86400;
  return today - int64_t{days} * 86400 + 12 * 3600;
}

// Events of today, 6 days ago, 9 days ago and 2024-09-01, with counts 1, 10, 100, 1000.
v1::IngestRequest AgedBatch() {
  v1::IngestRequest batch;
  int64_t count = 1;
  for (int64_t seconds : {NoonDaysAgo(0), NoonDaysAgo(6), NoonDaysAgo(9), int64_t{1725192000}}) {
    v1::DownloadEvent* event = batch.add_events();
    event->set_model_id("org/model");
    event->mutable_timestamp()->set_seconds(seconds);
    event->set_count(count);
    count *= 10;
  }
  return batch;
}

TEST(LatenessTest, AWeekCountsAndOlderEventsAreRefusedByName) {
  // The harness passes "any" first; the later flag wins.
  ServerProcess server(HUBSTATS_SERVER_PATH, {"--store", "memory", "--max-lateness-days", "7"});
  Connection connection(server.target());
  const test_support::StreamResult result = test_support::Stream(connection.channel, {AgedBatch()});
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_EQ(result.answers.size(), 1u);
  const v1::IngestResponse& answer = result.answers[0];
  EXPECT_EQ(answer.accepted(), 2);
  EXPECT_EQ(answer.accepted_downloads(), 11);
  ASSERT_EQ(answer.rejections_size(), 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(answer.rejections(i).index(), i + 2);
    EXPECT_EQ(answer.rejections(i).field(), "timestamp");
    EXPECT_THAT(answer.rejections(i).reason(), HasSubstr("at most 7 days late"));
  }
  EXPECT_THAT(answer.rejections(1).reason(), HasSubstr("2024-09-01 is "));
  EXPECT_EQ(test_support::TotalDownloads(*connection.query), 11);
}

TEST(LatenessTest, AnyDayCountsWhenLatenessIsOff) {
  ServerProcess server(HUBSTATS_SERVER_PATH, {"--store", "memory"});  // The harness: any.
  Connection connection(server.target());
  const test_support::StreamResult result = test_support::Stream(connection.channel, {AgedBatch()});
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_EQ(result.answers.size(), 1u);
  EXPECT_EQ(result.answers[0].accepted(), 4);
  EXPECT_EQ(test_support::TotalDownloads(*connection.query), 1111);
}

}  // namespace
}  // namespace hubstats
