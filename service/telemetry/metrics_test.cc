#include "telemetry/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace hubstats::telemetry {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, CountersPerLabelValuesAreExactUnderConcurrentIncrements) {
  Registry registry;
  Family<Counter>& events = registry.AddCounter("t_events_total", "Events.", {"outcome"});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Counter& mine = events.WithLabels({t % 2 == 0 ? "accepted" : "rejected"});
      for (int i = 0; i < kPerThread; ++i) mine.Increment();
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(events.WithLabels({"accepted"}).value(), uint64_t{kThreads / 2 * kPerThread});
  EXPECT_EQ(events.WithLabels({"rejected"}).value(), uint64_t{kThreads / 2 * kPerThread});
  EXPECT_EQ(&events.WithLabels({"accepted"}), &events.WithLabels({"accepted"}));
  EXPECT_EQ(registry.Scrape(),
            "# HELP t_events_total Events.\n"
            "# TYPE t_events_total counter\n"
            "t_events_total{outcome=\"accepted\"} 200000\n"
            "t_events_total{outcome=\"rejected\"} 200000\n");
}

TEST(MetricsTest, HistogramBucketsAreLessOrEqualAndCountMatchesTheInfBucket) {
  Histogram histogram({1, 2, 5});
  for (double value : {0.5, 1.0, 1.5, 2.0, 5.0, 7.0, 100.0}) histogram.Observe(value);
  const Histogram::Snapshot snapshot = histogram.snapshot();
  // <= 1: 0.5, 1.0; <= 2: + 1.5, 2.0; <= 5: + 5.0; +Inf: + 7, 100.
  EXPECT_THAT(snapshot.cumulative, ::testing::ElementsAre(2, 4, 5, 7));
  EXPECT_EQ(snapshot.count(), 7u);
  EXPECT_DOUBLE_EQ(snapshot.sum, 0.5 + 1.0 + 1.5 + 2.0 + 5.0 + 7.0 + 100.0);
}

TEST(MetricsTest, ScrapeWritesFamiliesInRegistrationOrderWithCallbacksReadAtScrapeTime) {
  Registry registry;
  double held = 3;
  registry.AddGaugeCallback("t_held_bytes", "Held.", [&held] { return held; });
  Family<Histogram>& latency =
      registry.AddHistogram("t_latency_seconds", "Latency.", {0.1, 1}, {"method"});
  latency.WithLabels({"Get"}).Observe(0.05);
  registry.AddGauge("t_build_info", "Build.", {"version"}).WithLabels({"1.2"}).Set(1);
  held = 4096;
  const std::string text = registry.Scrape();
  EXPECT_EQ(text,
            "# HELP t_held_bytes Held.\n"
            "# TYPE t_held_bytes gauge\n"
            "t_held_bytes 4096\n"
            "# HELP t_latency_seconds Latency.\n"
            "# TYPE t_latency_seconds histogram\n"
            "t_latency_seconds_bucket{method=\"Get\",le=\"0.1\"} 1\n"
            "t_latency_seconds_bucket{method=\"Get\",le=\"1\"} 1\n"
            "t_latency_seconds_bucket{method=\"Get\",le=\"+Inf\"} 1\n"
            "t_latency_seconds_sum{method=\"Get\"} 0.05\n"
            "t_latency_seconds_count{method=\"Get\"} 1\n"
            "# HELP t_build_info Build.\n"
            "# TYPE t_build_info gauge\n"
            "t_build_info{version=\"1.2\"} 1\n");
}

TEST(MetricsTest, BucketHelpersAreAscending) {
  EXPECT_THAT(ExponentialBuckets(1, 4, 4), ::testing::ElementsAre(1, 4, 16, 64));
  const std::vector<double> latency = LatencyBuckets();
  EXPECT_TRUE(std::is_sorted(latency.begin(), latency.end()));
}

TEST(MetricsDeathTest, MisuseAbortsWithAMessage) {
  Registry registry;
  registry.AddCounter("t_once_total", "Once.");
  EXPECT_DEATH(registry.AddCounter("t_once_total", "Again."), HasSubstr("registered twice"));
  EXPECT_DEATH(registry.AddCounter("t-bad", "Bad."), HasSubstr("invalid metric name"));
  EXPECT_DEATH(registry.AddCounter("t_l_total", "L.", {"le"}), HasSubstr("invalid label name"));
  Family<Counter>& labelled = registry.AddCounter("t_two_total", "Two.", {"a", "b"});
  EXPECT_DEATH(labelled.WithLabels({"x"}), HasSubstr("expected 2 label values"));
  EXPECT_DEATH(Histogram({2, 1}), HasSubstr("ascending"));
}

}  // namespace
}  // namespace hubstats::telemetry
