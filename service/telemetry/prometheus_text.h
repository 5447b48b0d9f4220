// PrometheusTextWriter: writes metrics in the Prometheus text exposition format, version 0.0.4
// (what `/metrics` endpoints serve with Content-Type `text/plain; version=0.0.4`).
//
// Per family: a `# HELP` line (backslash and newline escaped), a `# TYPE` line, then its
// samples, `name{label="value",...} value`, label values escaped (backslash, double quote,
// newline). A histogram's samples are `_bucket{le="..."}` with cumulative counts ending in
// `le="+Inf"`, then `_sum` and `_count`. Integers are written exactly; other numbers in the
// shortest form that reads back to the same double, with `+Inf`, `-Inf` and `NaN` as the
// format spells them.
//
// Names are not checked here (the Registry checks them once, at registration). Not thread-safe;
// one writer per scrape.
#ifndef HUBSTATS_SERVICE_TELEMETRY_PROMETHEUS_TEXT_H_
#define HUBSTATS_SERVICE_TELEMETRY_PROMETHEUS_TEXT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hubstats::telemetry {

enum class MetricType { kCounter, kGauge, kHistogram };

// Label names and values, in the order they are written.
using Labels = std::vector<std::pair<std::string, std::string>>;

class PrometheusTextWriter {
 public:
  // Starts a family: its HELP and TYPE lines. Samples written next belong to it.
  void BeginFamily(std::string_view name, std::string_view help, MetricType type);

  // One sample of the current family: `name` (the family's name, or with a suffix such as
  // `_bucket`), its labels, its value.
  void Sample(std::string_view name, const Labels& labels, uint64_t value);
  void Sample(std::string_view name, const Labels& labels, double value);

  // One histogram series of the current family (named `name`): `upper_bounds` ascending
  // (without +Inf), `cumulative` one count per bound plus the +Inf bucket (so its last entry is
  // the series' count), and the sum of the observed values.
  void Histogram(std::string_view name, const Labels& labels,
                 const std::vector<double>& upper_bounds, const std::vector<uint64_t>& cumulative,
                 double sum);

  // What was written so far.
  const std::string& text() const { return text_; }
  std::string Take() { return std::move(text_); }

 private:
  void SampleStart(std::string_view name, const Labels& labels,
                   const std::pair<std::string, std::string>* extra = nullptr);

  std::string text_;
};

// The value of the sample `series` (its name and labels exactly as written, e.g.
// `hubstats_x_total{outcome="ok"}`) in a scrape's text; nullopt when it is not there or its
// value is not a number. For tests and tools that read a scrape.
std::optional<double> ReadSample(std::string_view scrape, std::string_view series);

// The text of `value` as the format writes numbers: shortest round-trip form, `+Inf`, `-Inf`,
// `NaN`.
std::string FormatNumber(double value);

}  // namespace hubstats::telemetry

#endif  // HUBSTATS_SERVICE_TELEMETRY_PROMETHEUS_TEXT_H_
