#include "grpc/connection_options.h"

#include <grpc/grpc.h>

#include <algorithm>
#include <climits>

namespace hubstats {
namespace {

int Milliseconds(absl::Duration duration) {
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(duration), INT_MAX));
}

}  // namespace

void ApplyConnectionOptions(const ConnectionOptions& options, grpc::ServerBuilder& builder) {
  auto set = [&builder](const char* argument, absl::Duration duration) {
    if (duration > absl::ZeroDuration())
      builder.AddChannelArgument(argument, Milliseconds(duration));
  };
  set(GRPC_ARG_MAX_CONNECTION_AGE_MS, options.max_age);
  set(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, options.max_age_grace);
  set(GRPC_ARG_KEEPALIVE_TIME_MS, options.keepalive_time);
  set(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, options.keepalive_timeout);
  set(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, options.min_client_ping_interval);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
                             options.permit_pings_without_calls ? 1 : 0);
}

}  // namespace hubstats
