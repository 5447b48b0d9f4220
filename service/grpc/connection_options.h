// ConnectionOptions: how the server treats its HTTP/2 connections, for load balancers and
// clients that stay connected for long.
//
// * Connection age: after `max_age` (plus up to 10% jitter, gRPC's) the server sends GOAWAY;
//   calls in progress get `max_age_grace` more, then the connection closes and what is left is
//   cut (an ingest client re-sends its unacknowledged batches; they count once). Clients then
//   reconnect, re-resolving and re-balancing: without it a client stays on the replica it first
//   reached for as long as its connection lives.
// * Keepalive: the server pings a connection that was quiet for `keepalive_time` and closes it
//   when no answer comes within `keepalive_timeout` (dead clients, half-open connections through
//   NATs and proxies). It accepts client pings no more often than `min_client_ping_interval`
//   (a client pinging more often gets GOAWAY "too_many_pings"), and pings from clients without a
//   call in progress only with `permit_pings_without_calls`. The clients' own keepalive settings
//   (docs/OPERATIONS.md, "Keepalive") must stay within these.
//
// A zero duration leaves gRPC's default.
#ifndef HUBSTATS_SERVICE_GRPC_CONNECTION_OPTIONS_H_
#define HUBSTATS_SERVICE_GRPC_CONNECTION_OPTIONS_H_

#include <grpcpp/server_builder.h>

#include "absl/time/time.h"

namespace hubstats {

struct ConnectionOptions {
  absl::Duration max_age = absl::ZeroDuration();  // Zero: connections live for ever.
  absl::Duration max_age_grace = absl::ZeroDuration();
  absl::Duration keepalive_time = absl::ZeroDuration();
  absl::Duration keepalive_timeout = absl::ZeroDuration();
  absl::Duration min_client_ping_interval = absl::ZeroDuration();
  bool permit_pings_without_calls = false;
};

// Sets the channel arguments that carry `options` on `builder`.
void ApplyConnectionOptions(const ConnectionOptions& options, grpc::ServerBuilder& builder);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_GRPC_CONNECTION_OPTIONS_H_
