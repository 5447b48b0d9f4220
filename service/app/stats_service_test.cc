// Service logic on the in-memory store: validation, partial batches, query arguments.
#include "app/stats_service.h"

#include "app/follower.h"
#include "core/field_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/memory_store.h"
#include "store/store_test_util.h"

namespace hubstats {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1726833600);  // 2024-09-20T12:00:00Z

ReadModelOptions AtNow() {
  ReadModelOptions options;
  options.clock = [] { return kNow; };
  return options;
}

class StatsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(follower_.CatchUp().ok()); }
  // Queries reflect every commit at once: the follower catches up after each (in production it
  // polls; queries may ask for a version instead).
  StatsServiceOptions Options() {
    StatsServiceOptions options;
    options.committed = [this] { ASSERT_TRUE(follower_.CatchUp().ok()); };
    return options;
  }

  MemoryStore store_{{.shard_count = 4}};
  ReadModel model_{TaskTable::BuiltIn(), 4, AtNow()};
  Follower follower_{store_, model_};
  StatsService service_{store_, TaskTable::BuiltIn(), model_, Options()};
};

TEST_F(StatsServiceTest, ValidEventsOfABatchCountOnceAndBadOnesAreListed) {
  const std::vector<RawEvent> events = {
      {.model_id = "org/a", .count = 5},
      {.model_id = "bad id", .count = 5},
      {.model_id = "org/a", .timestamp_seconds = 1000, .count = 1},
      {.model_id = "org/b"},
      {.model_id = "org/b", .count = 0},
  };
  absl::StatusOr<IngestOutcome> outcome = service_.Ingest(events, kNow);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->accepted, 2);
  EXPECT_EQ(outcome->rejected, 3);
  EXPECT_EQ(outcome->accepted_downloads, 6);
  EXPECT_THAT(outcome->rejections,
              ElementsAre(Field(&ItemRejection::index, 1), Field(&ItemRejection::index, 2),
                          Field(&ItemRejection::index, 4)));
  EXPECT_EQ(outcome->rejections[0].field, "model_id");
  EXPECT_EQ(outcome->rejections[1].field, "timestamp");
  EXPECT_EQ(outcome->rejections[2].field, "count");
  EXPECT_THAT(outcome->rejections[2].reason, HasSubstr("between 1 and 1000000000"));

  absl::StatusOr<Answer<Population>> totals = service_.GetTotals({});
  ASSERT_TRUE(totals.ok());
  EXPECT_EQ(totals->value.total_downloads, 6);
  // No timestamp: the day the batch was received.
  EXPECT_EQ(totals->value.first_day, Day::FromTime(kNow));
  // The answer reflects the batch's versions.
  EXPECT_TRUE(outcome->version.ReachedBy(totals->as_of.versions));
  EXPECT_FALSE(outcome->version.shards.empty());
}

TEST_F(StatsServiceTest, OversizedBatchIsRefusedWhole) {
  std::vector<RawEvent> events(kMaxBatchItems + 1, RawEvent{.model_id = "a/b"});
  absl::StatusOr<IngestOutcome> outcome = service_.Ingest(events, kNow);
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(outcome.status()), "events");
  EXPECT_EQ(service_.GetTotals({})->value.total_downloads, 0);
}

TEST_F(StatsServiceTest, UpsertValidatesAndLastRecordWins) {
  absl::StatusOr<UpsertOutcome> outcome = service_.UpsertModels({
      {.model_id = "org/a", .pipeline_tag = "fill-mask"},
      {.model_id = "org/a", .pipeline_tag = "image-classification"},
      {.model_id = "org/b", .num_parameters = -5},
      {.model_id = "org/c", .modality = Modality::kUnknown},
  });
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->accepted, 2);
  EXPECT_EQ(outcome->rejected, 2);
  EXPECT_EQ(outcome->reclassified, 1);
  EXPECT_THAT(outcome->rejections, ElementsAre(Field(&ItemRejection::field, "num_parameters"),
                                               Field(&ItemRejection::field, "modality")));
  EXPECT_EQ(outcome->rejections[0].index, 2);
  absl::StatusOr<Answer<ModelStats>> stats = service_.GetModelStats("org/a", {});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->value.model_class.modality, Modality::kComputerVision);
}

TEST_F(StatsServiceTest, RevisionRowsAddUpWithARowForEventsWithoutOne) {
  ASSERT_TRUE(service_
                  .Ingest({{.model_id = "org/r", .count = 5, .revision = "main"},
                           {.model_id = "org/r", .count = 7},
                           {.model_id = "org/r", .count = 2, .revision = "v2"},
                           {.model_id = "org/r", .count = 3, .revision = "main"},
                           {.model_id = "org/s", .count = 4, .revision = "main"}},
                          kNow)
                  .ok());
  absl::StatusOr<Answer<ModelStats>> stats = service_.GetModelStats("org/r", {});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_THAT(stats->value.revisions,
              ElementsAre(std::pair<std::string, int64_t>("main", 8),
                          std::pair<std::string, int64_t>(std::string(kNoRevision), 7),
                          std::pair<std::string, int64_t>("v2", 2)));
  // Every event named a revision: no such row.
  stats = service_.GetModelStats("org/s", {});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_THAT(stats->value.revisions, ElementsAre(std::pair<std::string, int64_t>("main", 4)));
}

// Issue 14: with LatePolicy::kAllTimeOnly a late event is accepted and counts into all time
// only; the all-time revision rows still add up, with a row of their own for it.
TEST_F(StatsServiceTest, LateEventsCountIntoAllTimeOnlyAndTheirRowsAddUp) {
  StatsServiceOptions options = Options();
  options.event_limits = {.max_lateness_days = 7, .late = LatePolicy::kAllTimeOnly};
  StatsService service(store_, TaskTable::BuiltIn(), model_, options);
  const int64_t now = absl::ToUnixSeconds(kNow);
  const int64_t eight_days_ago = now - 8 * 86'400;
  absl::StatusOr<IngestOutcome> outcome = service.Ingest(
      {{.model_id = "org/r", .count = 5, .revision = "main"},
       {.model_id = "org/r", .timestamp_seconds = eight_days_ago, .count = 40, .revision = "main"},
       {.model_id = "org/r", .timestamp_seconds = eight_days_ago, .count = 2},
       {.model_id = "org/r", .count = 1}},
      kNow);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->accepted, 4);
  EXPECT_EQ(outcome->accepted_downloads, 48);
  EXPECT_EQ(outcome->accepted_all_time_only, 2);
  absl::StatusOr<Answer<ModelStats>> all = service.GetModelStats("org/r", {});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->value.downloads_all_time, 48);
  EXPECT_THAT(all->value.revisions,
              ElementsAre(std::pair<std::string, int64_t>(std::string(kLateNoDay), 42),
                          std::pair<std::string, int64_t>("main", 5),
                          std::pair<std::string, int64_t>(std::string(kNoRevision), 1)));
  const DayRange month{Day::FromTime(kNow - absl::Hours(24 * 29)), Day::FromTime(kNow)};
  absl::StatusOr<Answer<ModelStats>> ranged = service.GetModelStats("org/r", month);
  ASSERT_TRUE(ranged.ok()) << ranged.status();
  EXPECT_EQ(ranged->value.downloads_in_range, 6);
  EXPECT_THAT(ranged->value.revisions,
              ElementsAre(std::pair<std::string, int64_t>("main", 5),
                          std::pair<std::string, int64_t>(std::string(kNoRevision), 1)));
  EXPECT_EQ(service.GetTotals({})->value.total_downloads, 48);
  EXPECT_EQ(service.GetTotals(month)->value.total_downloads, 6);
  // The default policy refuses the same late event.
  options.event_limits.late = LatePolicy::kReject;
  StatsService refusing(store_, TaskTable::BuiltIn(), model_, options);
  outcome = refusing.Ingest(
      {{.model_id = "org/r", .timestamp_seconds = eight_days_ago, .count = 40}}, kNow);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->accepted, 0);
  EXPECT_EQ(outcome->rejected, 1);
  EXPECT_EQ(service.GetTotals({})->value.total_downloads, 48);
}

TEST_F(StatsServiceTest, QueryArgumentsAreCheckedWithFieldNames) {
  const DayRange reversed{*Day::Parse("2024-09-02"), *Day::Parse("2024-09-01")};
  EXPECT_EQ(FieldOf(service_.GetModalityShare(reversed).status()), "range.end");
  EXPECT_EQ(FieldOf(service_.GetTotals(reversed).status()), "range.end");
  const std::vector<int64_t> zero = {0, 300'000'000};
  EXPECT_EQ(FieldOf(service_.GetSizeDistribution({}, zero, {}).status()), "boundaries[0]");
  EXPECT_EQ(FieldOf(service_.GetTopN({}, RankBy::kModel, {}, 0).status()), "n");
  EXPECT_EQ(FieldOf(service_.GetTopN({}, RankBy::kModel, {}, kMaxTopN + 1).status()), "n");
  EXPECT_TRUE(service_.GetTopN({}, RankBy::kModel, {}, kMaxTopN).ok());
  EXPECT_EQ(FieldOf(service_.GetBreakdown({}, AggregateKind::kSize, {}).status()), "dimension");
  EXPECT_EQ(FieldOf(service_.GetModelStats("a b", {}).status()), "model_id");
  EXPECT_EQ(service_.GetModelStats("nobody/none", {}).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StatsServiceTest, AnswersFollowCatalogChanges) {
  ASSERT_TRUE(service_
                  .Ingest({{.model_id = "org/bert", .count = 60},
                           {.model_id = "org/vit", .count = 30},
                           {.model_id = "gpt2", .count = 10}},
                          kNow)
                  .ok());
  ModalityShare before = service_.GetModalityShare({})->value;
  EXPECT_EQ(before.rows[0].modality, Modality::kUnknown);
  EXPECT_EQ(before.rows[0].share_pct, 100.0);

  ASSERT_TRUE(
      service_
          .UpsertModels(
              {{.model_id = "org/bert", .pipeline_tag = "fill-mask", .num_parameters = 110'000'000},
               {.model_id = "org/vit",
                .pipeline_tag = "image-classification",
                .num_parameters = 86'000'000}})
          .ok());
  ModalityShare after = service_.GetModalityShare({})->value;
  EXPECT_EQ(after.total_downloads, 100);
  EXPECT_EQ(after.rows[0].modality, Modality::kNlp);
  EXPECT_EQ(after.rows[0].share_pct, 60.0);
  EXPECT_EQ(after.rows[1].modality, Modality::kComputerVision);
  EXPECT_EQ(after.rows[2].modality, Modality::kUnknown);

  SizeDistribution sizes = service_.GetSizeDistribution({}, {}, {})->value;
  EXPECT_EQ(sizes.known_downloads, 90);
  EXPECT_EQ(sizes.rows[0].size_class.label, "<200M");
  EXPECT_EQ(sizes.rows[0].cumulative_pct, 100.0);
  TopN top = service_.GetTopN({}, RankBy::kAuthor, {}, 1)->value;
  EXPECT_EQ(top.rows.at(0).id, "org");
  EXPECT_EQ(top.top_share_pct, 90.0);
}

TEST_F(StatsServiceTest, ProducerBatchesCountOnceAndOutOfOrderIsRefused) {
  const std::vector<RawEvent> first = {{.model_id = "org/a", .count = 5}, {.model_id = "bad id"}};
  const std::vector<RawEvent> second = {{.model_id = "org/b", .count = 7}};
  const BatchIdentity one{.producer_id = "job", .sequence = 1};
  absl::StatusOr<IngestOutcome> outcome = service_.Ingest(first, kNow, one);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_FALSE(outcome->duplicate);
  EXPECT_EQ(outcome->accepted, 1);
  // The same batch again: acknowledged as a duplicate with the same counts, not applied.
  outcome = service_.Ingest(first, kNow, one);
  ASSERT_TRUE(outcome.ok());
  EXPECT_TRUE(outcome->duplicate);
  EXPECT_EQ(outcome->accepted, 1);
  EXPECT_EQ(outcome->rejected, 1);
  EXPECT_EQ(service_.GetTotals({})->value.total_downloads, 5);
  // Same sequence, other events: refused by name.
  absl::Status mismatch = service_.Ingest(second, kNow, one).status();
  EXPECT_EQ(mismatch.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(FieldOf(mismatch), "sequence");
  EXPECT_THAT(ReasonOf(mismatch), HasSubstr("with other events"));
  // Sequence 3 commits; then 2 arrives late and was never committed: out of order.
  ASSERT_TRUE(
      service_.Ingest(second, kNow, BatchIdentity{.producer_id = "job", .sequence = 3}).ok());
  absl::Status late =
      service_.Ingest(second, kNow, BatchIdentity{.producer_id = "job", .sequence = 2}).status();
  EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ReasonOf(late), HasSubstr("after committing 3"));
  EXPECT_EQ(service_.GetTotals({})->value.total_downloads, 12);
}

TEST_F(StatsServiceTest, ServerStreamIdentitiesSkipTheProducerLog) {
  const std::vector<RawEvent> events = {{.model_id = "org/a", .count = 5}};
  const BatchIdentity stream{.producer_id = "~server.1", .sequence = 1, .from_client = false};
  ASSERT_FALSE(service_.Ingest(events, kNow, stream)->duplicate);
  // A retry of the same stream batch applies nothing more, and is not reported as a duplicate
  // (the client never sent it twice).
  absl::StatusOr<IngestOutcome> retry = service_.Ingest(events, kNow, stream);
  ASSERT_TRUE(retry.ok());
  EXPECT_FALSE(retry->duplicate);
  EXPECT_EQ(service_.GetTotals({})->value.total_downloads, 5);
  EXPECT_EQ(store_testing::CheckProducer(store_, {.producer_id = "~server.1", .sequence = 1})
                ->newest_committed,
            0u);
}

// Classification happens in each replica's read model: a replica started with an edited task
// table answers with it at once, for all history; the table is noted in the store so a
// mismatch between replicas is seen.
TEST_F(StatsServiceTest, AnEditedTaskTableReclassifiesAllHistoryOnItsReplica) {
  EXPECT_EQ(*service_.NoteTaskTable(), false);  // First note.
  ASSERT_TRUE(service_
                  .UpsertModels({{.model_id = "org/a", .pipeline_tag = "fill-mask"},
                                 {.model_id = "org/b", .pipeline_tag = "image-classification"}})
                  .ok());
  ASSERT_TRUE(
      service_.Ingest({{.model_id = "org/a", .count = 7}, {.model_id = "org/b", .count = 3}}, kNow)
          .ok());
  EXPECT_EQ(*service_.NoteTaskTable(), false);  // Same table.

  const TaskTable edited = *TaskTable::Parse("fill-mask audio\nimage-classification cv\n");
  ReadModel restarted_model(edited, 4, AtNow());
  Follower restarted_follower(store_, restarted_model);
  ASSERT_TRUE(restarted_follower.CatchUp().ok());
  StatsService restarted(store_, edited, restarted_model);
  EXPECT_EQ(*restarted.NoteTaskTable(), true);
  ModalityShare share = restarted.GetModalityShare({})->value;
  EXPECT_EQ(share.rows[0].modality, Modality::kAudio);
  EXPECT_EQ(share.rows[0].downloads, 7);
  EXPECT_EQ(share.rows[1].modality, Modality::kComputerVision);
  EXPECT_EQ(service_.GetModalityShare({})->value.rows[0].modality, Modality::kNlp);
}

}  // namespace
}  // namespace hubstats

namespace hubstats {
namespace {

// Issue 9, defect 4: the per-author 2^53 limit was judged on a commit window's sum. Near the
// limit, a one-event batch that fits on its own was refused because the next batch in the same
// window overflowed. Each batch is judged on its own, in order.
TEST_F(StatsServiceTest, AuthorLimitJudgesEachBatchOfAWindowOnItsOwn) {
  // Bring "big" to 10 short of the limit (stores take deltas as they come).
  const int64_t start = kMaxCounterValue - 10;
  const uint32_t shard = ShardOf("big", store_.shard_count());
  ModelDelta model{.index = store_.AssignIndexes(shard, {"big/m"})->front(),
                   .model_id = "big/m",
                   .author = "big",
                   .total = start,
                   .days = {DayDelta{.day = Day::FromTime(kNow), .count = start}}};
  ASSERT_TRUE(store_.ApplyWindow({WindowShard{.delta = {.shard = shard, .models = {model}}}}).ok());
  const std::vector<RawEvent> fits = {{.model_id = "big/m", .count = 4}};
  const std::vector<RawEvent> overflows = {{.model_id = "big/n", .count = 7},
                                           {.model_id = "small/m", .count = 3}};
  const std::vector<RawEvent> fits_after = {{.model_id = "big/n", .count = 6}};
  absl::StatusOr<PreparedBatch> first = service_.Prepare(fits, kNow, std::nullopt);
  absl::StatusOr<PreparedBatch> second = service_.Prepare(overflows, kNow, std::nullopt);
  absl::StatusOr<PreparedBatch> third = service_.Prepare(fits_after, kNow, std::nullopt);
  ASSERT_TRUE(first.ok() && second.ok() && third.ok());
  std::vector<PreparedBatch*> window = {&*first, &*second, &*third};
  std::vector<absl::StatusOr<IngestOutcome>> outcomes = service_.CommitWindow(window);
  ASSERT_EQ(outcomes.size(), 3u);
  for (const auto& outcome : outcomes) ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcomes[0]->accepted, 1);
  EXPECT_EQ(outcomes[0]->rejected, 0);
  // 4 + 7 would pass the limit: only the second batch's event of "big" is refused.
  EXPECT_EQ(outcomes[1]->accepted, 1);
  ASSERT_EQ(outcomes[1]->rejections.size(), 1u);
  EXPECT_EQ(outcomes[1]->rejections[0].index, 0);
  EXPECT_EQ(outcomes[1]->rejections[0].field, "count");
  // After the refused batch, 4 + 6 = 10 still fits exactly.
  EXPECT_EQ(outcomes[2]->accepted, 1);
  TopN top = service_.GetTopN({}, RankBy::kAuthor, {}, 1)->value;
  EXPECT_EQ(top.rows.at(0).downloads, kMaxCounterValue);
}

}  // namespace
}  // namespace hubstats
