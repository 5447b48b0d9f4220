#include "telemetry/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace hubstats::telemetry {
namespace {

bool ValidName(std::string_view name, bool colons) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colons && c == ':');
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

Labels LabelsOf(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  Labels labels;
  for (size_t i = 0; i < names.size(); ++i) labels.emplace_back(names[i], values[i]);
  return labels;
}

}  // namespace

void MetricsMisuse(const std::string& message) {
  std::fprintf(stderr, "metrics registry: %s\n", message.c_str());
  std::abort();
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(upper_bounds_.size() + 1)) {
  if (upper_bounds_.empty()) MetricsMisuse("a histogram needs at least one bucket bound");
  for (size_t i = 0; i < upper_bounds_.size(); ++i) {
    if (!std::isfinite(upper_bounds_[i]) || (i > 0 && upper_bounds_[i] <= upper_bounds_[i - 1])) {
      MetricsMisuse("histogram bounds must be finite and ascending");
    }
  }
}

void Histogram::Observe(double value) {
  // The first bound >= value: Prometheus buckets are `le` (less or equal).
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  snapshot.cumulative.reserve(upper_bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    snapshot.cumulative.push_back(running);
  }
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> bounds;
  double bound = start;
  for (int i = 0; i < count; ++i, bound *= factor) bounds.push_back(bound);
  return bounds;
}

std::vector<double> LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

struct Registry::Entry {
  std::string name;
  std::string help;
  MetricType type;
  std::shared_ptr<void> family;  // Family<T>, kept alive with the registry.
  // Writes the family's samples (its HELP and TYPE lines are written before).
  std::function<void(PrometheusTextWriter&)> write;
};

Registry::Registry() = default;
Registry::~Registry() = default;

void Registry::Add(std::string name, std::string help, MetricType type,
                   const std::vector<std::string>& label_names, std::shared_ptr<void> family,
                   std::function<void(PrometheusTextWriter&)> write) {
  if (!ValidName(name, /*colons=*/true)) MetricsMisuse("invalid metric name '" + name + "'");
  for (const std::string& label : label_names) {
    if (!ValidName(label, /*colons=*/false) || label.rfind("__", 0) == 0 || label == "le") {
      MetricsMisuse(name + ": invalid label name '" + label + "'");
    }
  }
  std::lock_guard lock(mutex_);
  for (const auto& entry : entries_) {
    if (entry->name == name) MetricsMisuse("metric '" + name + "' registered twice");
  }
  entries_.push_back(std::make_unique<Entry>(
      Entry{std::move(name), std::move(help), type, std::move(family), std::move(write)}));
}

Family<Counter>& Registry::AddCounter(std::string name, std::string help,
                                      std::vector<std::string> label_names) {
  auto family = std::shared_ptr<Family<Counter>>(
      new Family<Counter>(name, label_names, [] { return std::make_unique<Counter>(); }));
  auto write = [family = family.get()](PrometheusTextWriter& writer) {
    std::lock_guard lock(family->mutex_);
    for (const auto& [values, counter] : family->series_) {
      writer.Sample(family->name_, LabelsOf(family->label_names_, values), counter->value());
    }
  };
  Add(std::move(name), std::move(help), MetricType::kCounter, label_names, family, write);
  return *family;
}

Family<Gauge>& Registry::AddGauge(std::string name, std::string help,
                                  std::vector<std::string> label_names) {
  auto family = std::shared_ptr<Family<Gauge>>(
      new Family<Gauge>(name, label_names, [] { return std::make_unique<Gauge>(); }));
  auto write = [family = family.get()](PrometheusTextWriter& writer) {
    std::lock_guard lock(family->mutex_);
    for (const auto& [values, gauge] : family->series_) {
      writer.Sample(family->name_, LabelsOf(family->label_names_, values), gauge->value());
    }
  };
  Add(std::move(name), std::move(help), MetricType::kGauge, label_names, family, write);
  return *family;
}

Family<Histogram>& Registry::AddHistogram(std::string name, std::string help,
                                          std::vector<double> upper_bounds,
                                          std::vector<std::string> label_names) {
  Histogram check(upper_bounds);  // Refuses bad bounds now, not at the first series.
  auto family = std::shared_ptr<Family<Histogram>>(new Family<Histogram>(
      name, label_names, [upper_bounds] { return std::make_unique<Histogram>(upper_bounds); }));
  auto write = [family = family.get()](PrometheusTextWriter& writer) {
    std::lock_guard lock(family->mutex_);
    for (const auto& [values, histogram] : family->series_) {
      const Histogram::Snapshot snapshot = histogram->snapshot();
      writer.Histogram(family->name_, LabelsOf(family->label_names_, values), snapshot.upper_bounds,
                       snapshot.cumulative, snapshot.sum);
    }
  };
  Add(std::move(name), std::move(help), MetricType::kHistogram, label_names, family, write);
  return *family;
}

void Registry::AddGaugeCallback(std::string name, std::string help, std::function<double()> read) {
  auto write = [name, read = std::move(read)](PrometheusTextWriter& writer) {
    writer.Sample(name, {}, read());
  };
  Add(std::move(name), std::move(help), MetricType::kGauge, {}, nullptr, write);
}

std::string Registry::Scrape() const {
  PrometheusTextWriter writer;
  std::lock_guard lock(mutex_);
  for (const auto& entry : entries_) {
    writer.BeginFamily(entry->name, entry->help, entry->type);
    entry->write(writer);
  }
  return writer.Take();
}

}  // namespace hubstats::telemetry
