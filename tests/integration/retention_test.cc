// Retention end to end: one replica replays 2024 and keeps every day (--retention-days
// forever); a second starts with --retention-days 31 and folds 2024's months into monthly
// totals in Redis. Both replicas then answer all time and whole months exactly as before, list
// the folded months of a model, and refuse a range that splits a folded month with
// INVALID_ARGUMENT naming range.start and the nearest ends that would do.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <string>

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

v1::Date Date(int year, int month, int day) {
  v1::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

v1::DateRange Range(const v1::Date& start, const v1::Date& end) {
  v1::DateRange range;
  *range.mutable_start() = start;
  *range.mutable_end() = end;
  return range;
}

grpc::Status ModelStats(v1::QueryService::Stub& query, const v1::DateRange& range,
                        v1::ModelStatsResponse& stats) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::ModelStatsRequest request;
  request.set_model_id("org/model");
  *request.mutable_range() = range;
  request.mutable_freshness()->set_fresh(true);
  return query.GetModelStats(&context, request, &stats);
}

int64_t Total(v1::QueryService::Stub& query, const v1::DateRange& range) {
  grpc::ClientContext context;
  v1::TotalsRequest request;
  *request.mutable_range() = range;
  request.mutable_freshness()->set_fresh(true);
  v1::TotalsResponse totals;
  const grpc::Status status = query.GetTotals(&context, request, &totals);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return totals.total_downloads();
}

TEST(RetentionIntegrationTest, FoldedMonthsAnswerExactlyOnEveryReplicaAndSplitsAreRefused) {
  test_support::RedisServer redis;
  ServerProcess keeper(HUBSTATS_SERVER_PATH, {"--store", "redis", "--redis", redis.url()});
  Connection keeping(keeper.target());
  // 2024-01-10 (5, main), 2024-01-20 (3), 2024-02-05 (7, main), and today (1).
  v1::IngestRequest batch;
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  for (const auto& [seconds, count, revision] :
       {std::tuple<int64_t, int64_t, const char*>{1704888000, 5, "main"},
        {1705752000, 3, ""},
        {1707134400, 7, "main"},
        {now, 1, ""}}) {
    v1::DownloadEvent* event = batch.add_events();
    event->set_model_id("org/model");
    event->mutable_timestamp()->set_seconds(seconds);
    event->set_count(count);
    if (*revision) event->set_revision(revision);
  }
  const test_support::StreamResult result = test_support::Stream(keeping.channel, {batch});
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_EQ(result.answers.size(), 1u);
  ASSERT_EQ(result.answers[0].accepted(), 4);
  const v1::DateRange split = Range(Date(2024, 1, 15), Date(2024, 2, 29));
  v1::ModelStatsResponse stats;
  ASSERT_TRUE(ModelStats(*keeping.query, split, stats).ok());
  EXPECT_EQ(stats.downloads_in_range(), 10);

  // The second replica folds 2024 when it starts (the harness's "forever" is overridden).
  ServerProcess folder(HUBSTATS_SERVER_PATH,
                       {"--store", "redis", "--redis", redis.url(), "--retention-days", "31"});
  Connection folding(folder.target());
  // The folder folds in the background, a month at a time, and both replicas follow the folds
  // from the store's change log: wait until no day of 2024 is left, checking that every answer
  // on the way is exact.
  const v1::DateRange months = Range(Date(2024, 1, 1), Date(2024, 2, 29));
  grpc::Status refused;
  for (Connection* replica : {&keeping, &folding}) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    do {
      absl::SleepFor(absl::Milliseconds(50));
      const grpc::Status status = ModelStats(*replica->query, months, stats);
      ASSERT_TRUE(status.ok()) << status.error_message();
      ASSERT_EQ(stats.downloads_in_range(), 15);
    } while ((stats.months_size() == 0 || stats.days_size() > 0) && absl::Now() < deadline);

    refused = ModelStats(*replica->query, split, stats);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(refused.error_message(),
                HasSubstr("range.start: 2024-01-15 is in 2024-01, whose downloads are kept only "
                          "as a monthly total"));
    EXPECT_THAT(refused.error_message(), HasSubstr("start the range on 2024-01-01 or 2024-02-01"));
    EXPECT_FALSE(refused.error_details().empty());  // The BadRequest detail names the field.

    EXPECT_EQ(Total(*replica->query, v1::DateRange()), 16);
    EXPECT_EQ(Total(*replica->query, months), 15);
    const grpc::Status status = ModelStats(*replica->query, months, stats);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(stats.downloads_in_range(), 15);
    EXPECT_EQ(stats.days_size(), 0);
    ASSERT_EQ(stats.months_size(), 2);
    EXPECT_EQ(stats.months(0).day().month(), 1);
    EXPECT_EQ(stats.months(0).downloads(), 8);
    EXPECT_EQ(stats.months(1).day().month(), 2);
    EXPECT_EQ(stats.months(1).downloads(), 7);
    std::map<std::string, int64_t> revisions;
    for (const v1::RevisionCount& row : stats.revisions())
      revisions[row.revision()] = row.downloads();
    EXPECT_EQ(revisions, (std::map<std::string, int64_t>{{"main", 12}, {"(no revision)", 3}}));
  }
}

TEST(RetentionIntegrationTest, TooShortARetentionStopsTheServerWithTheMinimum) {
  const std::string output =
      test_support::ShellOutput(std::string(HUBSTATS_SERVER_PATH) +
                                " --retention-days 30 --listen 127.0.0.1:0 2>&1; "
                                "echo exit=$?");
  EXPECT_THAT(output, HasSubstr("--retention-days"));
  EXPECT_THAT(output, HasSubstr("31"));
  EXPECT_THAT(output, HasSubstr("exit=2"));
}

}  // namespace
}  // namespace hubstats
