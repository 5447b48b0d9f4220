#include "grpc/grpc_log.h"

#include <grpc/support/log.h>

#include <atomic>
#include <cstring>
#include <string>

namespace hubstats {
namespace {

std::atomic<telemetry::Logger*> routed_to{nullptr};

void Forward(gpr_log_func_args* args) {
  telemetry::Logger* logger = routed_to.load();
  if (logger == nullptr) return;
  telemetry::LogLevel level = telemetry::LogLevel::kError;
  if (args->severity == GPR_LOG_SEVERITY_DEBUG) level = telemetry::LogLevel::kDebug;
  if (args->severity == GPR_LOG_SEVERITY_INFO) level = telemetry::LogLevel::kInfo;
  // gRPC's file names are paths inside its source tree: the last part says enough.
  const char* slash = args->file != nullptr ? std::strrchr(args->file, '/') : nullptr;
  const std::string at =
      std::string(slash != nullptr ? slash + 1 : (args->file ? args->file : "")) + ":" +
      std::to_string(args->line);
  logger->Log(level, args->message != nullptr ? args->message : "",
              {{"source", "grpc"}, {"at", at}});
}

}  // namespace

void RouteGrpcLogs(telemetry::Logger& logger) {
  routed_to.store(&logger);
  gpr_set_log_function(&Forward);
}

}  // namespace hubstats
