#include "security/client_quota.h"

#include "gtest/gtest.h"

namespace hubstats {
namespace {

TEST(ClientQuotaTest, EachClientHoldsUpToTheLimit) {
  ClientQuota quota(100);
  EXPECT_TRUE(quota.TryHold("a", 60));
  EXPECT_FALSE(quota.TryHold("a", 41));
  EXPECT_TRUE(quota.TryHold("a", 40));
  EXPECT_TRUE(quota.TryHold("b", 100)) << "another client has its own quota";
  EXPECT_FALSE(quota.TryHold("c", 101));
  EXPECT_EQ(quota.held("a"), 100u);
  EXPECT_EQ(quota.held("c"), 0u);
  quota.Release("a", 60);
  EXPECT_EQ(quota.held("a"), 40u);
  EXPECT_TRUE(quota.TryHold("a", 60));
  quota.Release("a", 100);
  quota.Release("a", 5);  // Nothing held: nothing happens.
  EXPECT_EQ(quota.held("a"), 0u);
}

TEST(ClientQuotaTest, NoOverflowNearTheLimit) {
  ClientQuota quota(SIZE_MAX - 1);
  EXPECT_TRUE(quota.TryHold("a", SIZE_MAX - 10));
  EXPECT_FALSE(quota.TryHold("a", 100));
  EXPECT_FALSE(quota.TryHold("b", SIZE_MAX));
}

}  // namespace
}  // namespace hubstats
