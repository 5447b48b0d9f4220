// Late events end to end: a server allowing 7 days counts events of the last week before its
// day and refuses older ones, naming the field and the reason, while the rest of the batch
// counts exactly once; with --late-events all-time it counts them into all time only (every
// replica of a Redis store alike); with --max-lateness-days any (what backfills use) every day
// counts.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
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
using ::testing::Not;

// Noon (UTC) `days` days before now: days away from any midnight the test could cross, so the
// server's day is the test's, or one later (which only makes the old events older).
int64_t NoonDaysAgo(int days) {
  const int64_t today = absl::ToUnixSeconds(absl::Now()) / 86400 * 86400;
  return today - int64_t{days} * 86400 + 12 * 3600;
}

// Events of today, 6 days ago, 9 days ago and 2024-09-01, with counts 1, 10, 100, 1000, all
// with the revision "main".
v1::IngestRequest AgedBatch() {
  v1::IngestRequest batch;
  int64_t count = 1;
  for (int64_t seconds : {NoonDaysAgo(0), NoonDaysAgo(6), NoonDaysAgo(9), int64_t{1725192000}}) {
    v1::DownloadEvent* event = batch.add_events();
    event->set_model_id("org/model");
    event->mutable_timestamp()->set_seconds(seconds);
    event->set_count(count);
    event->set_revision("main");
    count *= 10;
  }
  return batch;
}

v1::Date DateOf(int64_t seconds) {
  const absl::CivilDay day = absl::ToCivilDay(absl::FromUnixSeconds(seconds), absl::UTCTimeZone());
  v1::Date date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

// The model's stats over `range` (all time when null), read fresh.
v1::ModelStatsResponse ModelStats(v1::QueryService::Stub& query, const v1::DateRange* range) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::ModelStatsRequest request;
  request.set_model_id("org/model");
  if (range != nullptr) *request.mutable_range() = *range;
  request.mutable_freshness()->set_fresh(true);
  v1::ModelStatsResponse stats;
  const grpc::Status status = query.GetModelStats(&context, request, &stats);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return stats;
}

std::map<std::string, int64_t> Revisions(const v1::ModelStatsResponse& stats) {
  std::map<std::string, int64_t> rows;
  for (const v1::RevisionCount& row : stats.revisions()) rows[row.revision()] = row.downloads();
  return rows;
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
  EXPECT_EQ(answer.accepted_all_time_only(), 0);
  ASSERT_EQ(answer.rejections_size(), 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(answer.rejections(i).index(), i + 2);
    EXPECT_EQ(answer.rejections(i).field(), "timestamp");
    EXPECT_THAT(answer.rejections(i).reason(), HasSubstr("at most 7 days late"));
  }
  EXPECT_THAT(answer.rejections(1).reason(), HasSubstr("2024-09-01 is "));
  EXPECT_EQ(test_support::TotalDownloads(*connection.query), 11);
}

TEST(LatenessTest, LateEventsCountIntoAllTimeOnlyWhenConfigured) {
  test_support::RedisServer redis;
  const std::vector<std::string> flags = {
      "--store", "redis",         "--redis", redis.url(), "--max-lateness-days",
      "7",       "--late-events", "all-time"};
  ServerProcess server(HUBSTATS_SERVER_PATH, flags);
  Connection connection(server.target());
  const test_support::StreamResult result = test_support::Stream(connection.channel, {AgedBatch()});
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_EQ(result.answers.size(), 1u);
  EXPECT_EQ(result.answers[0].accepted(), 4);
  EXPECT_EQ(result.answers[0].accepted_downloads(), 1111);
  EXPECT_EQ(result.answers[0].accepted_all_time_only(), 2);  // 9 days ago and 2024-09-01.
  EXPECT_EQ(result.answers[0].rejections_size(), 0);
  // A second replica loads what the first wrote: late downloads live in Redis, not in a process.
  ServerProcess other(HUBSTATS_SERVER_PATH, flags);
  Connection other_connection(other.target());
  v1::DateRange last_month;
  *last_month.mutable_start() = DateOf(NoonDaysAgo(29));
  *last_month.mutable_end() = DateOf(NoonDaysAgo(0));
  for (Connection* replica : {&connection, &other_connection}) {
    EXPECT_EQ(test_support::TotalDownloads(*replica->query), 1111);
    const v1::ModelStatsResponse all = ModelStats(*replica->query, nullptr);
    EXPECT_EQ(all.downloads_all_time(), 1111);
    EXPECT_EQ(all.days_size(), 2);  // Today and 6 days ago; late downloads have no day.
    // The rows add up: the late events' revision is not kept (revisions are per day).
    EXPECT_EQ(Revisions(all),
              (std::map<std::string, int64_t>{{"main", 11}, {"(late, no day)", 1100}}));
    const v1::ModelStatsResponse month = ModelStats(*replica->query, &last_month);
    EXPECT_EQ(month.downloads_in_range(), 11);
    EXPECT_EQ(Revisions(month), (std::map<std::string, int64_t>{{"main", 11}}));
  }
}

TEST(LatenessTest, AnUnknownLatePolicyStopsTheServerWithItsName) {
  const std::string output =
      test_support::ShellOutput(std::string(HUBSTATS_SERVER_PATH) +
                                " --late-events count --listen 127.0.0.1:0 2>&1; "
                                "echo exit=$?");
  EXPECT_THAT(output, HasSubstr("--late-events must be reject or all-time, got 'count'"));
  EXPECT_THAT(output, Not(HasSubstr("exit=0")));
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
