#include "telemetry/prometheus_text.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <system_error>

namespace hubstats::telemetry {
namespace {

void AppendEscaped(std::string& out, std::string_view text, bool quotes) {
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '"':
        // HELP text keeps double quotes as they are; label values escape them.
        out += quotes ? "\\\"" : "\"";
        break;
      default:
        out += c;
    }
  }
}

}  // namespace

std::string FormatNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  // The shortest text that reads back exactly, in %g style (0.0005, 1e-05, 2.5), as
  // Prometheus' own clients write bucket bounds.
  auto [end, error] =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::general);
  return std::string(buffer, end);
}

void PrometheusTextWriter::BeginFamily(std::string_view name, std::string_view help,
                                       MetricType type) {
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  AppendEscaped(text_, help, /*quotes=*/false);
  text_ += "\n# TYPE ";
  text_ += name;
  switch (type) {
    case MetricType::kCounter:
      text_ += " counter\n";
      break;
    case MetricType::kGauge:
      text_ += " gauge\n";
      break;
    case MetricType::kHistogram:
      text_ += " histogram\n";
      break;
  }
}

void PrometheusTextWriter::SampleStart(std::string_view name, const Labels& labels,
                                       const std::pair<std::string, std::string>* extra) {
  text_ += name;
  if (labels.empty() && extra == nullptr) {
    text_ += ' ';
    return;
  }
  text_ += '{';
  bool first = true;
  auto add = [&](const std::pair<std::string, std::string>& label) {
    if (!first) text_ += ',';
    first = false;
    text_ += label.first;
    text_ += "=\"";
    AppendEscaped(text_, label.second, /*quotes=*/true);
    text_ += '"';
  };
  for (const auto& label : labels) add(label);
  if (extra != nullptr) add(*extra);
  text_ += "} ";
}

void PrometheusTextWriter::Sample(std::string_view name, const Labels& labels, uint64_t value) {
  SampleStart(name, labels);
  text_ += std::to_string(value);
  text_ += '\n';
}

void PrometheusTextWriter::Sample(std::string_view name, const Labels& labels, double value) {
  SampleStart(name, labels);
  text_ += FormatNumber(value);
  text_ += '\n';
}

void PrometheusTextWriter::Histogram(std::string_view name, const Labels& labels,
                                     const std::vector<double>& upper_bounds,
                                     const std::vector<uint64_t>& cumulative, double sum) {
  const std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i <= upper_bounds.size(); ++i) {
    const std::pair<std::string, std::string> le = {
        "le", i < upper_bounds.size() ? FormatNumber(upper_bounds[i]) : "+Inf"};
    SampleStart(bucket, labels, &le);
    text_ += std::to_string(i < cumulative.size() ? cumulative[i] : 0);
    text_ += '\n';
  }
  Sample(std::string(name) + "_sum", labels, sum);
  Sample(std::string(name) + "_count", labels, cumulative.empty() ? 0 : cumulative.back());
}

std::optional<double> ReadSample(std::string_view scrape, std::string_view series) {
  const std::string prefix = std::string(series) + " ";
  for (size_t at = scrape.find(prefix); at != std::string_view::npos;
       at = scrape.find(prefix, at + 1)) {
    // Only at a line's start: `x_total 1` must not match inside `y_x_total 1`.
    if (at != 0 && scrape[at - 1] != '\n') continue;
    std::string_view value = scrape.substr(at + prefix.size());
    value = value.substr(0, value.find('\n'));
    if (value == "+Inf") return std::numeric_limits<double>::infinity();
    if (value == "-Inf") return -std::numeric_limits<double>::infinity();
    double number = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (error != std::errc() || end != value.data() + value.size()) return std::nullopt;
    return number;
  }
  return std::nullopt;
}

}  // namespace hubstats::telemetry
