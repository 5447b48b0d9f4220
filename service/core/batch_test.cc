#include "core/batch.h"

#include "core/field_error.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

TEST(BatchTest, ProducerRules) {
  EXPECT_TRUE(ValidateProducer("", 0).ok());
  EXPECT_TRUE(ValidateProducer("job-7:host.a_b", 1).ok());
  EXPECT_TRUE(ValidateProducer(std::string(128, 'p'), kMaxSequence).ok());
  EXPECT_EQ(FieldOf(ValidateProducer("", 5)), "producer_id");
  EXPECT_EQ(FieldOf(ValidateProducer("p", 0)), "sequence");
  EXPECT_EQ(FieldOf(ValidateProducer("p", kMaxSequence + 1)), "sequence");
  EXPECT_EQ(FieldOf(ValidateProducer("has space", 1)), "producer_id");
  EXPECT_EQ(FieldOf(ValidateProducer("{tag}", 1)), "producer_id");
  EXPECT_EQ(FieldOf(ValidateProducer(std::string(129, 'p'), 1)), "producer_id");
}

TEST(BatchTest, DigestSeesEveryField) {
  const std::vector<RawEvent> base = {
      {.model_id = "a/b", .timestamp_seconds = 1726833600, .count = 3, .revision = "main"}};
  const uint64_t digest = BatchDigest(base);
  EXPECT_EQ(BatchDigest(base), digest);
  auto changed = [&](auto edit) {
    std::vector<RawEvent> copy = base;
    edit(copy[0]);
    return BatchDigest(copy);
  };
  EXPECT_NE(changed([](RawEvent& e) { e.model_id = "a/c"; }), digest);
  EXPECT_NE(changed([](RawEvent& e) { e.timestamp_seconds = 1726833601; }), digest);
  EXPECT_NE(changed([](RawEvent& e) { e.timestamp_seconds.reset(); }), digest);
  EXPECT_NE(changed([](RawEvent& e) { e.timestamp_nanos = 1; }), digest);
  EXPECT_NE(changed([](RawEvent& e) { e.count = 4; }), digest);
  EXPECT_NE(changed([](RawEvent& e) { e.count.reset(); }), digest);
  EXPECT_NE(changed([](RawEvent& e) { e.revision = "v2"; }), digest);
  // Order matters, and so do boundaries between fields.
  const std::vector<RawEvent> two = {{.model_id = "x"}, {.model_id = "y"}};
  const std::vector<RawEvent> swapped = {{.model_id = "y"}, {.model_id = "x"}};
  EXPECT_NE(BatchDigest(two), BatchDigest(swapped));
  EXPECT_NE(BatchDigest(std::vector<RawEvent>{{.model_id = "ab", .revision = "c"}}),
            BatchDigest(std::vector<RawEvent>{{.model_id = "a", .revision = "bc"}}));
  EXPECT_NE(BatchDigest({}), BatchDigest(two));
}

}  // namespace
}  // namespace hubstats
