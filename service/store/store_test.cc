// One behavioural suite, run on MemoryStore and on RedisStore against a real redis-server and a
// real Redis Cluster (3 masters, 3 replicas): the
// facts a store keeps, its change log and versions, indexes, marks and producer logs.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_format.h"
#include "core/model_id.h"
#include "core/period.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/memory_store.h"
#include "store/store_kinds.h"
#include "store/store_test_util.h"

namespace hubstats {
namespace {

using store_testing::ApplyEvents;
using store_testing::CheckProducer;
using store_testing::CommitProducer;
using store_testing::Facts;
using store_testing::LoadFacts;
using store_testing::ModelFacts;
using store_testing::TestEvent;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

Day D(absl::string_view text) { return *Day::Parse(text); }

CatalogRecord Record(std::string id, std::string tag = "fill-mask", int64_t parameters = 0) {
  return {.model_id = std::move(id), .pipeline_tag = std::move(tag), .num_parameters = parameters};
}

class StoreTest : public ::testing::TestWithParam<test_support::StoreKind> {
 protected:
  void SetUp() override {
    store_ = GetParam().make(nullptr);
    ASSERT_NE(store_, nullptr);
  }

  void Ingest(const std::vector<TestEvent>& events) {
    absl::StatusOr<store_testing::ApplyResult> result = ApplyEvents(*store_, events);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_THAT(result->overflowing_authors, IsEmpty());
  }

  Facts Load() {
    absl::StatusOr<Facts> facts = LoadFacts(*store_);
    EXPECT_TRUE(facts.ok()) << facts.status();
    return facts.ok() ? *facts : Facts();
  }

  int64_t Total() {
    int64_t total = 0;
    for (const auto& [id, model] : Load().models) total += model.all_time;
    return total;
  }

  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, EmptyStoreHasNothing) {
  const Facts facts = Load();
  EXPECT_THAT(facts.models, IsEmpty());
  ASSERT_EQ(facts.versions.size(), store_->shard_count());
  absl::StatusOr<VersionVector> versions = store_->ReadVersions();
  ASSERT_TRUE(versions.ok()) << versions.status();
  EXPECT_EQ(*versions, facts.versions);
  std::vector<std::pair<uint32_t, Version>> after;
  for (uint32_t shard = 0; shard < store_->shard_count(); ++shard) {
    after.emplace_back(shard, (*versions)[shard]);
  }
  absl::StatusOr<std::vector<ShardChanges>> changes = store_->ReadChanges(after, 100);
  ASSERT_TRUE(changes.ok()) << changes.status();
  for (const ShardChanges& shard : *changes) {
    EXPECT_FALSE(shard.gap);
    EXPECT_THAT(shard.records, IsEmpty());
  }
}

TEST_P(StoreTest, IndexesAreAssignedOnceAndNeverReused) {
  const uint32_t shard = ShardOf("org", store_->shard_count());
  absl::StatusOr<std::vector<uint32_t>> first = store_->AssignIndexes(shard, {"org/a", "org/b"});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(*first, ElementsAre(0, 1));
  absl::StatusOr<std::vector<uint32_t>> again =
      store_->AssignIndexes(shard, {"org/b", "org/c", "org/a", "org/c"});
  ASSERT_TRUE(again.ok());
  EXPECT_THAT(*again, ElementsAre(1, 2, 0, 2));
  // An upsert of a new model indexes it too; of a known one keeps its index.
  absl::StatusOr<UpsertResult> upserted =
      store_->UpsertModels({Record("org/d"), Record("org/a", "text-generation")});
  ASSERT_TRUE(upserted.ok()) << upserted.status();
  const Facts facts = Load();
  EXPECT_EQ(facts.models.at("org/a").index, 0u);
  EXPECT_EQ(facts.models.at("org/c").index, 2u);
  EXPECT_EQ(facts.models.at("org/d").index, 3u);
  EXPECT_EQ(facts.models.at("org/a").record->pipeline_tag, "text-generation");
  EXPECT_EQ(facts.models.at("org/b").record, std::nullopt);
}

// Two replicas indexing overlapping new models at the same moment agree on every index, and
// the indexes of a shard stay dense (0..n-1, each once).
TEST_P(StoreTest, ConcurrentReplicasAgreeOnIndexes) {
  std::unique_ptr<Store> other = GetParam().make(store_.get());
  ASSERT_NE(other, nullptr);
  const uint32_t shard = ShardOf("org", store_->shard_count());
  std::vector<std::vector<uint32_t>> seen(2);
  std::vector<std::vector<std::string>> asked(2);
  auto replica = [&](Store* store, int which) {
    std::mt19937_64 random(which);
    for (int round = 0; round < 40; ++round) {
      std::vector<std::string> ids;
      for (int i = 0; i < 5; ++i) ids.push_back("org/m" + std::to_string(random() % 60));
      absl::StatusOr<std::vector<uint32_t>> indexes = store->AssignIndexes(shard, ids);
      ASSERT_TRUE(indexes.ok()) << indexes.status();
      asked[which].insert(asked[which].end(), ids.begin(), ids.end());
      seen[which].insert(seen[which].end(), indexes->begin(), indexes->end());
      if (round % 3 == 0) {
        ASSERT_TRUE(store->UpsertModels({Record(ids[0])}).ok());
      }
    }
  };
  std::thread first(replica, store_.get(), 0), second(replica, other.get(), 1);
  first.join();
  second.join();
  std::map<std::string, uint32_t> index_of;
  for (int which = 0; which < 2; ++which) {
    for (size_t i = 0; i < asked[which].size(); ++i) {
      auto [it, inserted] = index_of.emplace(asked[which][i], seen[which][i]);
      EXPECT_EQ(it->second, seen[which][i]) << asked[which][i];
    }
  }
  std::set<uint32_t> distinct;
  for (const auto& [id, index] : index_of) distinct.insert(index);
  EXPECT_EQ(distinct.size(), index_of.size());
  EXPECT_EQ(*distinct.rbegin(), index_of.size() - 1);
  for (const auto& [id, model] : Load().models) EXPECT_EQ(model.index, index_of.at(id)) << id;
}

TEST_P(StoreTest, AppliedWindowsAreFactsAndChangeRecords) {
  Ingest({{"org/a", "2024-09-01", 5, ""},
          {"org/a", "2024-09-02", 3, "main"},
          {"gpt2", "2024-09-02", 7, ""},
          {"x-y/z", "2024-09-03", 1, ""}});
  const Facts facts = Load();
  EXPECT_EQ(facts.models.at("org/a").all_time, 8);
  EXPECT_THAT(facts.models.at("org/a").days,
              ElementsAre(std::pair(D("2024-09-01"), 5), std::pair(D("2024-09-02"), 3)));
  EXPECT_EQ(facts.models.at("gpt2").all_time, 7);
  EXPECT_EQ(facts.models.at("x-y/z").days.at(D("2024-09-03")), 1);
  // Replaying every change record from the start gives the same facts.
  Facts replayed;
  replayed.versions = facts.versions;
  std::vector<std::pair<uint32_t, Version>> after;
  for (uint32_t shard = 0; shard < store_->shard_count(); ++shard)
    after.emplace_back(shard, Version{});
  absl::StatusOr<std::vector<ShardChanges>> changes = store_->ReadChanges(after, 1000);
  ASSERT_TRUE(changes.ok()) << changes.status();
  for (uint32_t shard = 0; shard < store_->shard_count(); ++shard) {
    const ShardChanges& log = (*changes)[shard];
    EXPECT_FALSE(log.gap);
    Version previous;
    for (const auto& [version, record] : log.records) {
      EXPECT_GT(version, previous);
      previous = version;
      ASSERT_TRUE(store_testing::ApplyRecord(replayed, shard, record));
    }
    EXPECT_EQ(previous, facts.versions[shard]);
  }
  EXPECT_EQ(replayed, facts);
}

// Late events counted into all time only (LatePolicy::kAllTimeOnly): all time holds them, no
// day does, and the change log carries them apart from the days.
TEST_P(StoreTest, AllTimeOnlyDownloadsCountInAllTimeAndOnNoDay) {
  Ingest({{"org/a", "2024-09-02", 3, "main"},
          {"org/a", "2024-08-01", 4, "main", /*all_time_only=*/true},
          {"org/late", "2024-08-01", 2, "", /*all_time_only=*/true}});
  Ingest({{"org/late", "2024-07-01", 5, "", /*all_time_only=*/true}});
  const Facts facts = Load();
  EXPECT_EQ(facts.models.at("org/a").all_time, 7);
  EXPECT_THAT(facts.models.at("org/a").days, ElementsAre(std::pair(D("2024-09-02"), 3)));
  EXPECT_EQ(facts.models.at("org/late").all_time, 7);
  EXPECT_THAT(facts.models.at("org/late").days, IsEmpty());
  absl::StatusOr<std::vector<RevisionDownloads>> revisions =
      store_->ReadRevisions(facts.models.at("org/a").shard, facts.models.at("org/a").index,
                            DayRange{}, absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(revisions.ok()) << revisions.status();
  EXPECT_THAT(*revisions, ElementsAre(RevisionDownloads{D("2024-09-02"), "main", 3}));
  // The log alone rebuilds the same facts, late downloads included.
  Facts replayed;
  replayed.versions = facts.versions;
  std::vector<std::pair<uint32_t, Version>> after;
  for (uint32_t shard = 0; shard < store_->shard_count(); ++shard) {
    after.emplace_back(shard, Version{});
  }
  absl::StatusOr<std::vector<ShardChanges>> changes = store_->ReadChanges(after, 1000);
  ASSERT_TRUE(changes.ok()) << changes.status();
  int64_t logged_late = 0;
  for (uint32_t shard = 0; shard < store_->shard_count(); ++shard) {
    for (const auto& [version, record] : (*changes)[shard].records) {
      for (const AllTimeAdded& added : record.all_time_only) logged_late += added.downloads;
      ASSERT_TRUE(store_testing::ApplyRecord(replayed, shard, record));
    }
  }
  EXPECT_EQ(logged_late, 11);
  EXPECT_EQ(replayed, facts);
}

// A snapshot plus the records after its version equals a later snapshot: what a read model
// relies on to load once and then follow.
TEST_P(StoreTest, SnapshotPlusLaterRecordsEqualsALaterSnapshot) {
  std::mt19937_64 random(42);
  auto random_events = [&] {
    std::vector<TestEvent> events;
    for (int i = 0; i < 200; ++i) {
      events.push_back({store_testing::RandomModelId(random, 7, 12),
                        "2024-09-" + std::to_string(10 + random() % 9),
                        static_cast<int64_t>(1 + random() % 50), random() % 3 ? "" : "main"});
    }
    return events;
  };
  Ingest(random_events());
  ASSERT_TRUE(store_->UpsertModels({Record("org1/m1"), Record("new/model", "", 7)}).ok());
  Facts followed = Load();
  for (int round = 0; round < 4; ++round) {
    Ingest(random_events());
    std::vector<CatalogRecord> records;
    for (int i = 0; i < 5; ++i) {
      const std::string id = "org" + std::to_string(i) + "/m" + std::to_string(random() % 12);
      records.push_back(Record(id, round % 2 ? "text-generation" : "image-classification",
                               static_cast<int64_t>(random() % 1000)));
    }
    ASSERT_TRUE(store_->UpsertModels(records).ok());
    std::vector<std::pair<uint32_t, Version>> after;
    for (uint32_t shard = 0; shard < store_->shard_count(); ++shard) {
      after.emplace_back(shard, followed.versions[shard]);
    }
    absl::StatusOr<std::vector<ShardChanges>> changes = store_->ReadChanges(after, 10'000);
    ASSERT_TRUE(changes.ok()) << changes.status();
    for (uint32_t shard = 0; shard < store_->shard_count(); ++shard) {
      ASSERT_FALSE((*changes)[shard].gap);
      for (const auto& [version, record] : (*changes)[shard].records) {
        ASSERT_TRUE(store_testing::ApplyRecord(followed, shard, record));
        followed.versions[shard] = version;
      }
    }
    EXPECT_EQ(followed, Load()) << "round " << round;
  }
}

TEST_P(StoreTest, ChangesAreReadInPagesAndVersionsOnlyGrow) {
  for (int i = 0; i < 7; ++i) Ingest({{"org/a", "2024-09-01", 1, ""}});
  const uint32_t shard = ShardOf("org", store_->shard_count());
  Version after;
  std::vector<Version> seen;
  while (true) {
    absl::StatusOr<std::vector<ShardChanges>> page = store_->ReadChanges({{shard, after}}, 3);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_FALSE(page->front().gap);
    EXPECT_LE(page->front().records.size(), 3u);
    if (page->front().records.empty()) break;
    for (const auto& [version, record] : page->front().records) seen.push_back(version);
    after = seen.back();
  }
  // One record for the index, one per window.
  EXPECT_EQ(seen.size(), 8u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(store_->ReadVersions()->at(shard), seen.back());
}

TEST_P(StoreTest, UpsertReplacesRecordsAndTellsWhatWasThere) {
  absl::StatusOr<UpsertResult> first = store_->UpsertModels({Record("org/a"), Record("b")});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(first->previous, ElementsAre(std::nullopt, std::nullopt));
  EXPECT_FALSE(first->version.shards.empty());
  CatalogRecord changed = Record("org/a", "text-to-image", 2'000'000'000);
  changed.modality = Modality::kMultimodal;
  changed.architecture = Architecture::kDecoder;
  changed.library_name = "diffusers";
  absl::StatusOr<UpsertResult> second = store_->UpsertModels({changed});
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->previous.size(), 1u);
  EXPECT_EQ(second->previous[0], Record("org/a"));
  EXPECT_EQ(Load().models.at("org/a").record, changed);
  // The upsert's token is reached by the store's versions.
  EXPECT_TRUE(second->version.ReachedBy(*store_->ReadVersions()));
}

TEST_P(StoreTest, RevisionsAreKeptPerDay) {
  Ingest({{"org/a", "2024-09-01", 5, "main"},
          {"org/a", "2024-09-01", 2, "v1"},
          {"org/a", "2024-09-02", 3, "main"},
          {"org/a", "2024-09-02", 4, ""}});
  const ModelFacts model = Load().models.at("org/a");
  absl::StatusOr<std::vector<RevisionDownloads>> all =
      store_->ReadRevisions(model.shard, model.index, DayRange{}, absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(*all, ElementsAre(RevisionDownloads{D("2024-09-01"), "main", 5},
                                RevisionDownloads{D("2024-09-01"), "v1", 2},
                                RevisionDownloads{D("2024-09-02"), "main", 3}));
  absl::StatusOr<std::vector<RevisionDownloads>> second = store_->ReadRevisions(
      model.shard, model.index, {D("2024-09-02"), D("2024-09-02")}, absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(second.ok());
  EXPECT_THAT(*second, ElementsAre(RevisionDownloads{D("2024-09-02"), "main", 3}));
}

// Every (shard, month) FoldMonth folds before `before`, until none is left. Versions only grow.
std::vector<std::pair<uint32_t, Day>> FoldAll(Store& store, Day before) {
  std::vector<std::pair<uint32_t, Day>> folded;
  for (uint32_t shard = 0; shard < store.shard_count(); ++shard) {
    while (true) {
      absl::StatusOr<std::optional<Day>> month = store.FoldMonth(shard, before);
      EXPECT_TRUE(month.ok()) << month.status();
      if (!month.ok() || !*month) break;
      folded.emplace_back(shard, **month);
      if (folded.size() > 1000) break;  // A store that never says "done".
    }
  }
  return folded;
}

// What folding every month before `before` makes of `facts`, computed here from the days.
Facts FoldedFacts(Facts facts, Day before) {
  for (auto& [id, model] : facts.models) {
    for (auto it = model.days.begin(); it != model.days.end() && it->first < before;) {
      const Day month = PeriodStart(it->first, Granularity::kMonth);
      model.months[month] += it->second;
      facts.folded.emplace(model.shard, month);
      it = model.days.erase(it);
    }
  }
  return facts;
}

std::vector<std::pair<uint32_t, Version>> After(const VersionVector& versions) {
  std::vector<std::pair<uint32_t, Version>> after;
  for (uint32_t shard = 0; shard < versions.size(); ++shard) {
    after.emplace_back(shard, versions[shard]);
  }
  return after;
}

TEST_P(StoreTest, FoldingMovesAMonthOfDaysIntoItsMonthExactlyAndLogsIt) {
  std::mt19937_64 random(7);
  std::vector<TestEvent> events;
  for (int i = 0; i < 300; ++i) {
    std::string model = store_testing::RandomModelId(random, 9, 6);
    const int month = 1 + static_cast<int>(random() % 4);  // 2024-01 .. 2024-04
    const int day = 1 + static_cast<int>(random() % 28);
    const auto count = static_cast<int64_t>(1 + random() % 40);
    const char* revision = random() % 3 == 0 ? "" : (random() % 2 ? "main" : "v2");
    events.push_back(
        {std::move(model), absl::StrFormat("2024-%02d-%02d", month, day), count, revision});
  }
  Ingest(events);
  Ingest({{"org/r", "2024-01-31", 5, "main"},
          {"org/r", "2024-01-02", 2, "main"},
          {"org/r", "2024-01-02", 1, "v1"},
          {"org/r", "2024-02-29", 4, ""},
          {"org/r", "2024-03-01", 3, "main"}});
  const Facts before = Load();
  const int64_t total = Total();

  const std::vector<std::pair<uint32_t, Day>> folded = FoldAll(*store_, D("2024-03-01"));
  const Facts after = Load();
  EXPECT_EQ(after.models.size(), before.models.size());
  // Exactly the days before March, moved into their months; all time and later days unchanged.
  Facts expected = FoldedFacts(before, D("2024-03-01"));
  expected.versions = after.versions;
  EXPECT_EQ(after, expected);
  EXPECT_EQ(Total(), total);
  EXPECT_EQ(std::set(folded.begin(), folded.end()), expected.folded);
  EXPECT_EQ(folded.size(), expected.folded.size()) << "a month was folded twice";
  EXPECT_THAT(after.models.at("org/r").months,
              ElementsAre(std::pair(D("2024-01-01"), 8), std::pair(D("2024-02-01"), 4)));
  // The log tells a follower the same: the records after `before` rebuild `after`.
  absl::StatusOr<std::vector<ShardChanges>> changes =
      store_->ReadChanges(After(before.versions), 10'000);
  ASSERT_TRUE(changes.ok()) << changes.status();
  Facts followed = before;
  for (uint32_t shard = 0; shard < store_->shard_count(); ++shard) {
    ASSERT_FALSE((*changes)[shard].gap);
    for (const auto& [version, record] : (*changes)[shard].records) {
      ASSERT_TRUE(store_testing::ApplyRecord(followed, shard, record));
      followed.versions[shard] = version;
    }
  }
  EXPECT_EQ(followed, after);

  // Revisions of folded months are per month; a month counts in any range that has one of its
  // days.
  const ModelFacts& r = after.models.at("org/r");
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  absl::StatusOr<std::vector<RevisionDownloads>> revisions =
      store_->ReadRevisions(r.shard, r.index, DayRange{}, deadline);
  ASSERT_TRUE(revisions.ok()) << revisions.status();
  EXPECT_THAT(*revisions, ElementsAre(RevisionDownloads{D("2024-01-01"), "main", 7, true},
                                      RevisionDownloads{D("2024-01-01"), "v1", 1, true},
                                      RevisionDownloads{D("2024-03-01"), "main", 3}));
  revisions = store_->ReadRevisions(r.shard, r.index, {D("2024-01-31"), D("2024-02-01")}, deadline);
  ASSERT_TRUE(revisions.ok()) << revisions.status();
  EXPECT_THAT(*revisions, ElementsAre(RevisionDownloads{D("2024-01-01"), "main", 7, true},
                                      RevisionDownloads{D("2024-01-01"), "v1", 1, true}));

  // Nothing left before March: no month, no change.
  EXPECT_THAT(FoldAll(*store_, D("2024-03-01")), IsEmpty());
  EXPECT_EQ(Load(), after);
}

TEST_P(StoreTest, LateDownloadsOfAFoldedMonthStayPerDayUntilTheNextFold) {
  Ingest({{"org/a", "2024-01-10", 3, "main"}, {"org/a", "2024-02-10", 1, ""}});
  EXPECT_EQ(FoldAll(*store_, D("2024-02-01")).size(), 1u);
  Ingest({{"org/a", "2024-01-20", 2, "main"}, {"org/b", "2024-01-21", 6, "v1"}});
  Facts facts = Load();
  EXPECT_THAT(facts.models.at("org/a").days,
              ElementsAre(std::pair(D("2024-01-20"), 2), std::pair(D("2024-02-10"), 1)));
  EXPECT_THAT(facts.models.at("org/a").months, ElementsAre(std::pair(D("2024-01-01"), 3)));
  const std::vector<std::pair<uint32_t, Day>> again = FoldAll(*store_, D("2024-02-01"));
  EXPECT_FALSE(again.empty());
  for (const auto& [shard, month] : again) EXPECT_EQ(month, D("2024-01-01"));
  facts = Load();
  EXPECT_THAT(facts.models.at("org/a").days, ElementsAre(std::pair(D("2024-02-10"), 1)));
  EXPECT_THAT(facts.models.at("org/a").months, ElementsAre(std::pair(D("2024-01-01"), 5)));
  EXPECT_THAT(facts.models.at("org/b").months, ElementsAre(std::pair(D("2024-01-01"), 6)));
  EXPECT_EQ(facts.models.at("org/a").all_time, 6);
  const ModelFacts& a = facts.models.at("org/a");
  absl::StatusOr<std::vector<RevisionDownloads>> revisions =
      store_->ReadRevisions(a.shard, a.index, DayRange{}, absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(revisions.ok()) << revisions.status();
  EXPECT_THAT(*revisions, ElementsAre(RevisionDownloads{D("2024-01-01"), "main", 5, true}));
}

TEST_P(StoreTest, ReplicasFoldingAtOnceFoldEachMonthOnce) {
  std::mt19937_64 random(11);
  std::vector<TestEvent> events;
  for (int i = 0; i < 400; ++i) {
    std::string model = store_testing::RandomModelId(random, 5, 8);
    const int month = 1 + static_cast<int>(random() % 6);
    const int day = 1 + static_cast<int>(random() % 28);
    events.push_back({std::move(model), absl::StrFormat("2024-%02d-%02d", month, day),
                      static_cast<int64_t>(1 + random() % 9), random() % 2 ? "main" : ""});
  }
  Ingest(events);
  const Facts before = Load();
  std::vector<std::vector<std::pair<uint32_t, Day>>> folded(3);
  std::vector<std::thread> replicas;
  for (auto& mine : folded) {
    replicas.emplace_back([&] { mine = FoldAll(*store_, D("2024-06-01")); });
  }
  for (std::thread& replica : replicas) replica.join();
  Facts expected = FoldedFacts(before, D("2024-06-01"));
  const Facts after = Load();
  expected.versions = after.versions;
  EXPECT_EQ(after, expected);
  std::multiset<std::pair<uint32_t, Day>> all;
  for (const auto& mine : folded) all.insert(mine.begin(), mine.end());
  EXPECT_EQ(all.size(), expected.folded.size()) << "a month was folded twice";
}

TEST_P(StoreTest, FoldingRefusesABoundaryThatIsNotAFirstOfMonth) {
  const absl::StatusOr<std::optional<Day>> folded = store_->FoldMonth(0, D("2024-03-02"));
  EXPECT_TRUE(absl::IsInvalidArgument(folded.status())) << folded.status();
}

TEST_P(StoreTest, AuthorTotalsAndTheExactLimit) {
  // Bring "big" to 1e9 short of the limit in one delta (stores take deltas as they come; event
  // limits are the service's business).
  const int64_t target = kMaxCounterValue - 1'000'000'000;
  const uint32_t shard = ShardOf("big", store_->shard_count());
  absl::StatusOr<std::vector<uint32_t>> index = store_->AssignIndexes(shard, {"big/m"});
  ASSERT_TRUE(index.ok());
  ModelDelta model{.index = (*index)[0],
                   .model_id = "big/m",
                   .author = "big",
                   .total = target,
                   .days = {DayDelta{.day = D("2024-08-01"), .count = target}}};
  ASSERT_TRUE(
      store_->ApplyWindow({WindowShard{.delta = {.shard = shard, .models = {model}}}}).ok());
  absl::StatusOr<store_testing::ApplyResult> result =
      ApplyEvents(*store_, {{"big/m", "2024-09-01", 600'000'000, ""},
                            {"big/n", "2024-09-01", 600'000'000, ""},
                            {"small/m", "2024-09-01", 5, ""}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->overflowing_authors, ElementsAre("big"));
  absl::StatusOr<std::vector<int64_t>> totals =
      store_->ReadAuthorTotals({"big", "small", "nobody"});
  ASSERT_TRUE(totals.ok()) << totals.status();
  EXPECT_THAT(*totals, ElementsAre(target, 5, 0));
  // Up to the limit exactly is fine.
  Ingest({{"big/n", "2024-09-01", 1'000'000'000, ""}});
  EXPECT_EQ(store_->ReadAuthorTotals({"big"})->front(), kMaxCounterValue);
  EXPECT_EQ(Load().models.at("big/m").all_time, target);
}

TEST_P(StoreTest, SettingsRoundTrip) {
  EXPECT_EQ(*store_->ReadSetting("task_table"), "");
  ASSERT_TRUE(store_->WriteSetting("task_table", "abc").ok());
  EXPECT_EQ(*store_->ReadSetting("task_table"), "abc");
}

TEST_P(StoreTest, ShardMarksApplyABatchOncePerShard) {
  const std::vector<TestEvent> events = {{"a1/m", "2024-09-01", 5, ""},
                                         {"b2/m", "2024-09-01", 7, ""},
                                         {"c3/m", "2024-09-02", 11, ""},
                                         {"d4/m", "2024-09-02", 13, ""}};
  const BatchIdentity first{.producer_id = "job", .sequence = 1};
  absl::StatusOr<std::vector<WindowShard>> window =
      store_testing::WindowOf(*store_, events, &first);
  ASSERT_TRUE(window.ok());
  ASSERT_GE(window->size(), 2u);
  // A failure after the first shard: only it was applied.
  ASSERT_TRUE(store_testing::Apply(*store_, absl::MakeSpan(*window).subspan(0, 1)).ok());
  // The retry skips that shard and applies the rest; a third try applies nothing.
  absl::StatusOr<store_testing::ApplyResult> retry = store_testing::Apply(*store_, *window);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->shards_skipped, 1);
  absl::StatusOr<store_testing::ApplyResult> again = store_testing::Apply(*store_, *window);
  EXPECT_EQ(again->shards_skipped, static_cast<int>(window->size()));
  EXPECT_EQ(Total(), 36);
  // Marks are per producer, and a later sequence of the same producer applies.
  const BatchIdentity other{.producer_id = "other-job", .sequence = 1};
  ASSERT_EQ(ApplyEvents(*store_, events, &other)->shards_skipped, 0);
  const BatchIdentity next{.producer_id = "job", .sequence = 2};
  ASSERT_EQ(ApplyEvents(*store_, events, &next)->shards_skipped, 0);
  EXPECT_EQ(Total(), 3 * 36);
}

TEST_P(StoreTest, ProducerVerdicts) {
  auto check = [&](uint64_t sequence, uint64_t digest) {
    absl::StatusOr<ProducerVerdict> verdict =
        CheckProducer(*store_, {.producer_id = "p", .sequence = sequence, .digest = digest});
    EXPECT_TRUE(verdict.ok()) << verdict.status();
    return verdict.ok() ? verdict->check : ProducerCheck::kNew;
  };
  auto commit = [&](uint64_t sequence, uint64_t digest) {
    ASSERT_TRUE(
        CommitProducer(*store_, {.producer_id = "p", .sequence = sequence, .digest = digest}).ok());
  };
  EXPECT_EQ(check(1, 10), ProducerCheck::kNew);
  commit(1, 10);
  commit(2, 20);
  commit(5, 50);  // Gaps are allowed.
  EXPECT_EQ(check(2, 20), ProducerCheck::kDuplicate);
  EXPECT_EQ(check(2, 21), ProducerCheck::kContentMismatch);
  EXPECT_EQ(check(3, 30), ProducerCheck::kOutOfOrder);
  EXPECT_EQ(check(6, 60), ProducerCheck::kNew);
  EXPECT_EQ(CheckProducer(*store_, {.producer_id = "p", .sequence = 6})->newest_committed, 5u);
  EXPECT_EQ(CheckProducer(*store_, {.producer_id = "q", .sequence = 1})->check,
            ProducerCheck::kNew);
}

TEST_P(StoreTest, ProducerWindowKeepsTheNewestAndAFloor) {
  for (uint64_t sequence = 1; sequence <= kProducerWindow + 5; ++sequence) {
    ASSERT_TRUE(CommitProducer(
                    *store_, {.producer_id = "long", .sequence = sequence, .digest = sequence * 7})
                    .ok());
  }
  auto check = [&](uint64_t sequence, uint64_t digest) {
    return CheckProducer(*store_, {.producer_id = "long", .sequence = sequence, .digest = digest})
        ->check;
  };
  // Trimmed sequences count as committed whatever their digest: their content is forgotten.
  EXPECT_EQ(check(1, 0), ProducerCheck::kDuplicate);
  EXPECT_EQ(check(5, 0), ProducerCheck::kDuplicate);
  EXPECT_EQ(check(6, 6 * 7), ProducerCheck::kDuplicate);
  EXPECT_EQ(check(6, 1), ProducerCheck::kContentMismatch);
  EXPECT_EQ(check(kProducerWindow + 5, 0), ProducerCheck::kContentMismatch);
  EXPECT_EQ(check(kProducerWindow + 6, 0), ProducerCheck::kNew);
}

TEST_P(StoreTest, PingAnswers) { EXPECT_TRUE(store_->Ping().ok()); }

INSTANTIATE_TEST_SUITE_P(Stores, StoreTest, ::testing::ValuesIn(test_support::AllStoreKinds()),
                         [](const ::testing::TestParamInfo<test_support::StoreKind>& info) {
                           return info.param.name;
                         });

// A reader that falls behind the change log's retention is told to load again.
TEST(MemoryStoreTest, DroppedRecordsAreAGap) {
  MemoryStore store({.shard_count = 1, .log_records = 2});
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(store.UpsertModels({Record("org/a")}).ok());
  absl::StatusOr<std::vector<ShardChanges>> old = store.ReadChanges({{0, Version{}}}, 10);
  ASSERT_TRUE(old.ok());
  EXPECT_TRUE(old->front().gap);
  absl::StatusOr<std::vector<ShardChanges>> recent = store.ReadChanges({{0, Version{0, 2}}}, 10);
  EXPECT_FALSE(recent->front().gap);
  EXPECT_EQ(recent->front().records.size(), 2u);
  // A version the log never had (a reader of another store) is a gap too.
  EXPECT_TRUE(store.ReadChanges({{0, Version{0, 9}}}, 10)->front().gap);
}

}  // namespace
}  // namespace hubstats
