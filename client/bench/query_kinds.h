// The queries `hubstats-bench query` measures, by --queries: the report's, sizes off the grid,
// and trends. Each kind is one RPC with fixed arguments, named for the results.
#ifndef HUBSTATS_CLIENT_BENCH_QUERY_KINDS_H_
#define HUBSTATS_CLIENT_BENCH_QUERY_KINDS_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "hubstats/v1/hubstats.grpc.pb.h"

namespace hubstats::bench {

struct QueryKind {
  std::string name;
  std::function<grpc::Status(v1::QueryService::Stub&, grpc::ClientContext&)> call;
};

// The report's four queries (modality share, size distribution, top-50 models and
// organisations), each for all time, the one day `day` and the rolling 30 days ending on it.
std::vector<QueryKind> QueryKinds(absl::CivilDay day);

// Size questions off the 1-2-5 grid, each for all time, the day `day` and the 30 days ending on
// it: the report's classes (200M, 500M, 1B) beside the sizes LLM users think in (1B, 7B, 13B,
// 70B) and twelve arbitrary boundaries, and the top-50 models between 7B and 13B parameters.
std::vector<QueryKind> SizeKinds(absl::CivilDay day);

// Trends as a chart would ask for them: the 12 calendar months and the 365 days ending on `day`,
// by modality, by size and as the top-50 organisations' share.
std::vector<QueryKind> TrendKinds(absl::CivilDay day);

}  // namespace hubstats::bench

#endif  // HUBSTATS_CLIENT_BENCH_QUERY_KINDS_H_
