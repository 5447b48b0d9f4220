#include "app/top_tracker.h"

#include <algorithm>
#include <map>
#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

using Ranked = std::vector<std::pair<uint32_t, int64_t>>;

class TopTrackerTest : public ::testing::Test {
 protected:
  absl::string_view Name(uint32_t member) { return names_[member]; }

  // The first n of `scores` by downloads descending, then name ascending.
  Ranked Expected(const std::map<uint32_t, int64_t>& scores, size_t n) {
    Ranked all(scores.begin(), scores.end());
    std::sort(all.begin(), all.end(), [&](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : names_[a.first] < names_[b.first];
    });
    if (all.size() > n) all.resize(n);
    return all;
  }

  std::vector<std::string> names_;
};

// Random growth only: the tracker must always equal a full sort, ties included.
TEST_F(TopTrackerTest, GrowthKeepsTheExactFirstMembers) {
  std::mt19937_64 random(1);
  for (int i = 0; i < 300; ++i) names_.push_back("m" + std::to_string(random() % 100000));
  TopTracker tracker([this](uint32_t m) { return Name(m); }, 10);
  std::map<uint32_t, int64_t> scores;
  for (int step = 0; step < 20000; ++step) {
    const auto member = static_cast<uint32_t>(random() % names_.size());
    // Small increments make many ties at the cut.
    scores[member] += 1 + static_cast<int64_t>(random() % 2);
    tracker.Grow(member, scores[member]);
    if (step % 97 == 0) {
      ASSERT_EQ(tracker.Top(10), Expected(scores, 10)) << "step " << step;
    }
  }
  EXPECT_TRUE(tracker.valid());
  EXPECT_EQ(tracker.Top(10), Expected(scores, 10));
  EXPECT_EQ(tracker.Top(3), Expected(scores, 3));
}

TEST_F(TopTrackerTest, ShrinkingATrackedMemberInvalidatesOnlyThen) {
  names_ = {"a", "b", "c", "d"};
  TopTracker tracker([this](uint32_t m) { return Name(m); }, 2);
  tracker.Rebuild({{0, 5}, {1, 4}, {2, 3}, {3, 2}}, 2);
  EXPECT_EQ(tracker.Top(5), (Ranked{{0, 5}, {1, 4}}));
  tracker.Shrink(3);  // Not tracked: the first two stay the first two.
  EXPECT_TRUE(tracker.valid());
  tracker.Shrink(1);
  EXPECT_FALSE(tracker.valid());
  tracker.Rebuild({{0, 5}, {1, 1}, {2, 3}, {3, 2}}, 3);
  EXPECT_EQ(tracker.Top(5), (Ranked{{0, 5}, {2, 3}, {3, 2}}));
  // Below the cut does not enter; a tie at the cut goes to the smaller name.
  tracker.Grow(1, 2);
  EXPECT_EQ(tracker.Top(5), (Ranked{{0, 5}, {2, 3}, {1, 2}}));
}

TEST_F(TopTrackerTest, FewerMembersThanCapacityAreAllTracked) {
  names_ = {"x", "y"};
  TopTracker tracker([this](uint32_t m) { return Name(m); }, 8);
  tracker.Rebuild({}, 8);
  tracker.Grow(1, 3);
  tracker.Grow(0, 3);
  EXPECT_EQ(tracker.Top(8), (Ranked{{0, 3}, {1, 3}}));
}

}  // namespace
}  // namespace hubstats
