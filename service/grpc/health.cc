#include "grpc/health.h"

#include "absl/strings/str_cat.h"

namespace hubstats {

ServingHealth::ServingHealth(grpc::HealthCheckServiceInterface& health,
                             ServingHealthOptions options)
    : health_(health), options_(std::move(options)) {
  // gRPC's health service starts with "" SERVING; nothing is known yet.
  for (const char* service : {"", kIngestHealthService, kQueryHealthService}) {
    health_.SetServingStatus(service, false);
  }
  health_.SetServingStatus(kLivenessHealthService, true);
}

ServingHealth::~ServingHealth() {
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
  }
  wakeup_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ServingHealth::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!shutting_down_) {
      lock.unlock();
      CheckNow();
      lock.lock();
      wakeup_.wait_for(lock, absl::ToChronoMilliseconds(options_.period),
                       [this] { return shutting_down_; });
    }
  });
}

void ServingHealth::CheckNow() {
  // Outside the lock: a ping may take as long as the store's timeout.
  const absl::Status ping = options_.ping ? options_.ping() : absl::OkStatus();
  const bool ready = options_.ready ? options_.ready() : true;
  std::lock_guard lock(mutex_);
  if (shutting_down_) return;  // A check that ends after shutdown began changes nothing.
  if (options_.log && store_ok_ != ping.ok()) {
    options_.log(!ping.ok(), ping.ok() ? std::string("store answers: SERVING")
                                       : absl::StrCat("store does not answer (", ping.message(),
                                                      "): NOT_SERVING"));
  }
  if (options_.log && ready_ != ready && (ready_.has_value() || !ready)) {
    options_.log(!ready, ready ? "ready to answer queries" : "not ready to answer queries");
  }
  // Only changes are published: gRPC's health service sends every update to every watcher.
  if (store_ok_ != ping.ok() || ready_ != ready) Publish(ping.ok(), ready);
  store_ok_ = ping.ok();
  ready_ = ready;
}

void ServingHealth::Publish(bool store_ok, bool ready) {
  // Every service needs both (v2): ingest needs the model's indexes and the store, queries
  // the model and, to know they are current, the store.
  for (const char* service : {"", kIngestHealthService, kQueryHealthService}) {
    health_.SetServingStatus(service, store_ok && ready);
  }
}

void ServingHealth::BeginShutdown() {
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
    Publish(false, false);
    health_.SetServingStatus(kLivenessHealthService, false);
  }
  wakeup_.notify_all();
}

bool ServingHealth::store_answers() const {
  std::lock_guard lock(mutex_);
  return store_ok_.value_or(false);
}

}  // namespace hubstats
