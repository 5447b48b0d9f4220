// MetricsHttpServer: serves a Registry's scrape at `GET /metrics` over HTTP (civetweb), on its
// own port beside the gRPC server; every other path is 404.
//
// Two threads answer requests; a scrape runs Registry::Scrape (and so the gauge callbacks) on
// one of them. Stopping (destruction) waits for requests in progress: after it no scrape runs,
// so whatever the callbacks read may go away then.
#ifndef HUBSTATS_SERVICE_TELEMETRY_METRICS_HTTP_H_
#define HUBSTATS_SERVICE_TELEMETRY_METRICS_HTTP_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "telemetry/metrics.h"

struct mg_context;
struct mg_connection;

namespace hubstats::telemetry {

class MetricsHttpServer {
 public:
  // Listens on `address`, `host:port` (IPv4, or `[IPv6]:port`); port 0 picks a free port.
  // `registry` must outlive the server. INVALID_ARGUMENT for an address that is not host:port,
  // UNAVAILABLE when it cannot listen there (the port is taken).
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(std::string_view address,
                                                                  const Registry& registry);
  ~MetricsHttpServer();

  // The port it listens on.
  int port() const { return port_; }

 private:
  MetricsHttpServer(const Registry& registry) : registry_(registry) {}
  static int Handle(mg_connection* connection, void* self);

  const Registry& registry_;
  mg_context* context_ = nullptr;
  int port_ = 0;
};

}  // namespace hubstats::telemetry

#endif  // HUBSTATS_SERVICE_TELEMETRY_METRICS_HTTP_H_
