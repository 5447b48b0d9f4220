#include "grpc/call_guard.h"

#include "gtest/gtest.h"
#include "hubstats/v1/hubstats.grpc.pb.h"

namespace hubstats {
namespace {

// Every RPC of the API needs a scope: a method added to the proto without one would be
// refused by no guard. This fails until ScopeOfMethod names it.
TEST(CallGuardTest, EveryMethodOfTheApiHasAScope) {
  int methods = 0;
  const google::protobuf::FileDescriptor* api = v1::IngestRequest::descriptor()->file();
  ASSERT_EQ(api->service_count(), 2);
  for (int s = 0; s < api->service_count(); ++s) {
    const google::protobuf::ServiceDescriptor* service = api->service(s);
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string path = "/" + service->full_name() + "/" + service->method(i)->name();
      EXPECT_TRUE(ScopeOfMethod(path).has_value()) << path << " has no scope";
      ++methods;
    }
  }
  EXPECT_EQ(methods, 11);
}

TEST(CallGuardTest, ScopesFollowTheService) {
  EXPECT_EQ(ScopeOfMethod("/hubstats.v1.IngestService/StreamEvents"), TokenScope::kIngest);
  EXPECT_EQ(ScopeOfMethod("/hubstats.v1.IngestService/UpsertModels"), TokenScope::kIngest);
  EXPECT_EQ(ScopeOfMethod("/hubstats.v1.QueryService/GetTopN"), TokenScope::kRead);
  EXPECT_EQ(ScopeOfMethod("/hubstats.v1.QueryService/ExportModels"), TokenScope::kRead);
  EXPECT_EQ(ScopeOfMethod("/hubstats.v1.QueryService/Nothing"), std::nullopt);
  EXPECT_EQ(ScopeOfMethod("/grpc.health.v1.Health/Check"), std::nullopt);
  EXPECT_EQ(ScopeOfMethod("/hubstats.v1.IngestService/GetTopN"), std::nullopt);
}

}  // namespace
}  // namespace hubstats
