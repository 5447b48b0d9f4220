// Routes gRPC's own log messages (gpr_log: connection errors, bad arguments...) into a Logger,
// so every line of the server, gRPC's included, has one format (`--log-format json` parses
// whole). Levels map debug/info/error; fields `source=grpc` and `at=FILE:LINE`. Which messages
// gRPC emits is still GRPC_VERBOSITY's choice (errors only, by default).
//
// Process-wide: gRPC has one log function. `logger` must live until the process ends.
#ifndef HUBSTATS_SERVICE_GRPC_GRPC_LOG_H_
#define HUBSTATS_SERVICE_GRPC_GRPC_LOG_H_

#include "telemetry/log.h"

namespace hubstats {

void RouteGrpcLogs(telemetry::Logger& logger);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_GRPC_GRPC_LOG_H_
