#include "grpc/health.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace hubstats {
namespace {

// Records what ServingHealth reports, as gRPC's health service would hold it.
class RecordingHealth : public grpc::HealthCheckServiceInterface {
 public:
  void SetServingStatus(const std::string& service, bool serving) override {
    std::lock_guard lock(mutex_);
    status_[service] = serving ? "SERVING" : "NOT_SERVING";
  }
  void SetServingStatus(bool serving) override {
    std::lock_guard lock(mutex_);
    for (auto& [service, status] : status_) status = serving ? "SERVING" : "NOT_SERVING";
  }
  void Shutdown() override {}

  // "SERVING", "NOT_SERVING", or "" for a service never set.
  std::string Of(const std::string& service) {
    std::lock_guard lock(mutex_);
    auto it = status_.find(service);
    return it == status_.end() ? "" : it->second;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> status_;
};

struct World {
  std::atomic<bool> store_up{true};
  std::atomic<bool> ready{true};
  std::vector<std::string> logged;

  ServingHealthOptions Options() {
    ServingHealthOptions options;
    options.ping = [this] {
      return store_up ? absl::OkStatus() : absl::UnavailableError("connection refused");
    };
    options.ready = [this] { return ready.load(); };
    options.log = [this](bool problem, const std::string& message) {
      logged.push_back((problem ? "! " : "") + message);
    };
    return options;
  }
};

std::vector<std::string> All(RecordingHealth& health) {
  return {health.Of(""), health.Of(kIngestHealthService), health.Of(kQueryHealthService),
          health.Of(kLivenessHealthService)};
}

constexpr char S[] = "SERVING";
constexpr char N[] = "NOT_SERVING";

TEST(ServingHealthTest, NothingButLivenessServesBeforeTheFirstCheck) {
  RecordingHealth health;
  health.SetServingStatus("", true);  // As gRPC's health service starts.
  World world;
  ServingHealth serving(health, world.Options());
  EXPECT_THAT(All(health), ::testing::ElementsAre(N, N, N, S));
  serving.CheckNow();
  EXPECT_THAT(All(health), ::testing::ElementsAre(S, S, S, S));
  EXPECT_TRUE(serving.store_answers());
}

TEST(ServingHealthTest, EveryServiceButLivenessNeedsTheStoreAndReadiness) {
  RecordingHealth health;
  World world;
  ServingHealth serving(health, world.Options());

  world.store_up = false;
  serving.CheckNow();
  EXPECT_THAT(All(health), ::testing::ElementsAre(N, N, N, S));
  EXPECT_FALSE(serving.store_answers());

  world.store_up = true;
  world.ready = false;
  serving.CheckNow();
  EXPECT_THAT(All(health), ::testing::ElementsAre(N, N, N, S));

  world.ready = true;
  serving.CheckNow();
  EXPECT_THAT(All(health), ::testing::ElementsAre(S, S, S, S));
  EXPECT_THAT(world.logged,
              ::testing::ElementsAre("! store does not answer (connection refused): NOT_SERVING",
                                     "store answers: SERVING", "! not ready to answer queries",
                                     "ready to answer queries"));
}

TEST(ServingHealthTest, ShutdownTurnsEverythingNotServingForGood) {
  RecordingHealth health;
  World world;
  ServingHealth serving(health, world.Options());
  serving.CheckNow();
  serving.BeginShutdown();
  EXPECT_THAT(All(health), ::testing::ElementsAre(N, N, N, N));
  serving.CheckNow();  // A check finishing late changes nothing.
  EXPECT_THAT(All(health), ::testing::ElementsAre(N, N, N, N));
}

TEST(ServingHealthTest, ItsThreadNoticesChanges) {
  RecordingHealth health;
  World world;
  ServingHealthOptions options = world.Options();
  options.log = nullptr;
  options.period = absl::Milliseconds(5);
  ServingHealth serving(health, options);
  serving.Start();
  auto wait_for = [&](const std::string& want) {
    for (int i = 0; i < 2000 && health.Of(kIngestHealthService) != want; ++i) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    return health.Of(kIngestHealthService);
  };
  EXPECT_EQ(wait_for(S), S);
  world.store_up = false;
  EXPECT_EQ(wait_for(N), N);
  world.store_up = true;
  EXPECT_EQ(wait_for(S), S);
}

}  // namespace
}  // namespace hubstats
