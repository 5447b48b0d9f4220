// Unit checks of the ingest helpers; the reliable streaming itself is exercised against real
// servers, Redis and injected faults in tests/fault.
#include "ingest.h"

#include "core/batch.h"
#include "gtest/gtest.h"

namespace hubstats::cli {
namespace {

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
