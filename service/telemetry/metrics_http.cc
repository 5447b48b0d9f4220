#include "telemetry/metrics_http.h"

#include <civetweb.h>

#include <cstring>
#include <mutex>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace hubstats::telemetry {

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    std::string_view address_view, const Registry& registry) {
  const std::string address(address_view);
  const size_t colon = address.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address must be host:port, got '", address, "'"));
  }
  // civetweb needs its library state set up once per process.
  static std::once_flag initialized;
  std::call_once(initialized, [] { mg_init_library(0); });

  auto server = std::unique_ptr<MetricsHttpServer>(new MetricsHttpServer(registry));
  const char* options[] = {"listening_ports", address.c_str(),
                           // A scrape is cheap; two threads answer a scraper and a person.
                           "num_threads", "2",
                           // A stuck client cannot hold a thread for long.
                           "request_timeout_ms", "10000", nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof(callbacks));
  mg_init_data init{&callbacks, server.get(), options};
  char error_text[256] = "";
  unsigned error_code = 0;
  mg_error_data error{&error_code, error_text, sizeof(error_text)};
  server->context_ = mg_start2(&init, &error);
  if (server->context_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": ", error_text));
  }
  mg_set_request_handler(server->context_, "/metrics$", &MetricsHttpServer::Handle, server.get());
  mg_server_port listening[4];
  const int count = mg_get_server_ports(server->context_, 4, listening);
  if (count < 1) return absl::InternalError("civetweb listens on no port");
  server->port_ = listening[0].port;
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (context_ != nullptr) mg_stop(context_);
}

int MetricsHttpServer::Handle(mg_connection* connection, void* self) {
  const mg_request_info* request = mg_get_request_info(connection);
  if (std::strcmp(request->request_method, "GET") != 0 &&
      std::strcmp(request->request_method, "HEAD") != 0) {
    mg_send_http_error(connection, 405, "%s", "only GET /metrics\n");
    return 405;
  }
  const std::string body = static_cast<MetricsHttpServer*>(self)->registry_.Scrape();
  mg_send_http_ok(connection, "text/plain; version=0.0.4; charset=utf-8",
                  static_cast<long long>(body.size()));
  if (std::strcmp(request->request_method, "GET") == 0) {
    mg_write(connection, body.data(), body.size());
  }
  return 200;
}

}  // namespace hubstats::telemetry
