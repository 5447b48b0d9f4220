#include "telemetry/prometheus_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>

namespace hubstats::telemetry {
namespace {

TEST(PrometheusTextTest, FamilyHasHelpAndTypeLinesThenSamples) {
  PrometheusTextWriter writer;
  writer.BeginFamily("hubstats_events_total", "Events.\nSecond line with a \\ and \"quotes\".",
                     MetricType::kCounter);
  writer.Sample("hubstats_events_total", {{"outcome", "accepted"}}, uint64_t{42});
  writer.Sample("hubstats_events_total", {}, uint64_t{18446744073709551615u});
  writer.BeginFamily("hubstats_held_bytes", "Bytes.", MetricType::kGauge);
  writer.Sample("hubstats_held_bytes", {}, 0.25);
  EXPECT_EQ(writer.text(),
            "# HELP hubstats_events_total Events.\\nSecond line with a \\\\ and \"quotes\".\n"
            "# TYPE hubstats_events_total counter\n"
            "hubstats_events_total{outcome=\"accepted\"} 42\n"
            "hubstats_events_total 18446744073709551615\n"
            "# HELP hubstats_held_bytes Bytes.\n"
            "# TYPE hubstats_held_bytes gauge\n"
            "hubstats_held_bytes 0.25\n");
}

TEST(PrometheusTextTest, LabelValuesEscapeBackslashQuoteAndNewline) {
  PrometheusTextWriter writer;
  writer.Sample("m", {{"a", "x\\y\"z\nw"}, {"b", ""}}, uint64_t{1});
  EXPECT_EQ(writer.text(), "m{a=\"x\\\\y\\\"z\\nw\",b=\"\"} 1\n");
}

TEST(PrometheusTextTest, HistogramHasCumulativeBucketsInfSumAndCount) {
  PrometheusTextWriter writer;
  writer.BeginFamily("lat_seconds", "Latency.", MetricType::kHistogram);
  writer.Histogram("lat_seconds", {{"method", "/a/B"}}, {0.005, 0.5, 2}, {1, 3, 3, 5}, 7.25);
  EXPECT_EQ(writer.text(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{method=\"/a/B\",le=\"0.005\"} 1\n"
            "lat_seconds_bucket{method=\"/a/B\",le=\"0.5\"} 3\n"
            "lat_seconds_bucket{method=\"/a/B\",le=\"2\"} 3\n"
            "lat_seconds_bucket{method=\"/a/B\",le=\"+Inf\"} 5\n"
            "lat_seconds_sum{method=\"/a/B\"} 7.25\n"
            "lat_seconds_count{method=\"/a/B\"} 5\n");
}

TEST(PrometheusTextTest, NumbersReadBackExactlyAndSpecialValuesAreSpelledAsTheFormatSays) {
  EXPECT_EQ(FormatNumber(1), "1");
  EXPECT_EQ(FormatNumber(-2.5), "-2.5");
  EXPECT_EQ(FormatNumber(0.0005), "0.0005");
  EXPECT_EQ(FormatNumber(1e-5), "1e-05");
  EXPECT_EQ(FormatNumber(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatNumber(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatNumber(std::nan("")), "NaN");
  for (double value : {0.1, 1.0 / 3, 1e-5, 123456789.125, 2.2250738585072014e-308}) {
    EXPECT_EQ(std::strtod(FormatNumber(value).c_str(), nullptr), value) << FormatNumber(value);
  }
}

TEST(PrometheusTextTest, ReadSampleFindsASeriesAtALineStart) {
  PrometheusTextWriter writer;
  writer.BeginFamily("x_total", "X.", MetricType::kCounter);
  writer.Sample("x_total", {{"outcome", "ok"}}, uint64_t{7});
  writer.Sample("x_total", {{"outcome", "bad"}}, uint64_t{2});
  writer.BeginFamily("y_x_total", "Y.", MetricType::kCounter);
  writer.Sample("y_x_total", {}, uint64_t{5});
  writer.BeginFamily("z", "Z.", MetricType::kGauge);
  writer.Sample("z", {}, 0.25);
  writer.Sample("z_inf", {}, std::numeric_limits<double>::infinity());
  const std::string scrape = writer.Take();
  EXPECT_EQ(ReadSample(scrape, "x_total{outcome=\"ok\"}"), 7);
  EXPECT_EQ(ReadSample(scrape, "x_total{outcome=\"bad\"}"), 2);
  EXPECT_EQ(ReadSample(scrape, "y_x_total"), 5);
  EXPECT_EQ(ReadSample(scrape, "x_total"), std::nullopt);  // Only with its labels.
  EXPECT_EQ(ReadSample(scrape, "z"), 0.25);
  EXPECT_EQ(ReadSample(scrape, "z_inf"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(ReadSample(scrape, "absent"), std::nullopt);
}

}  // namespace
}  // namespace hubstats::telemetry
