#include "grpc/grpc_log.h"

#include <grpc/grpc.h>
#include <grpc/support/log.h>

#include <cstdio>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats {
namespace {

TEST(GrpcLogTest, GrpcMessagesBecomeLinesOfTheLogger) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  // Lives for the process, as the contract asks.
  static telemetry::Logger* logger = new telemetry::Logger(file, telemetry::LogFormat::kJson, "t");
  RouteGrpcLogs(*logger);
  grpc_init();  // gRPC reads its verbosity there; before, it logs nothing.
  gpr_log(GPR_ERROR, "connection %d refused", 7);
  grpc_shutdown();
  std::fflush(file);
  std::rewind(file);
  char buffer[1024];
  const std::string text(buffer, std::fread(buffer, 1, sizeof(buffer), file));
  EXPECT_THAT(text, ::testing::HasSubstr(
                        "\"level\":\"error\",\"logger\":\"t\",\"msg\":\"connection 7 refused\","
                        "\"source\":\"grpc\",\"at\":\"grpc_log_test.cc:"));
}

}  // namespace
}  // namespace hubstats
