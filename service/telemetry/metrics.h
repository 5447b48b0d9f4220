// The metrics registry: counters, gauges and histograms with labels, read by a Prometheus scrape.
//
// A metric family has a name, a help text and fixed label names; each combination of label
// values is one series, created on first use by `WithLabels` and kept for the registry's life
// (so the address it returns stays valid: look it up once, then update it lock-free). Updates
// are atomic operations; `WithLabels` takes the family's mutex. Gauges may also be callbacks,
// run at scrape time. `Scrape` writes every family in the Prometheus text format
// (prometheus_text.h), in registration order, series in label order.
//
// Counters count whole things (events, calls) as 64-bit integers, so they stay exact; a
// histogram's buckets and count are exact too, its sum is a double.
//
// Programmer errors abort with a message: an invalid metric or label name, a name registered
// twice, a wrong number of label values. Thread-safe: register, update and scrape from any
// thread. Callbacks run on the scraping thread while the registry's lock is held: they must not
// use the registry, and whatever they read must outlive the last scrape.
#ifndef HUBSTATS_SERVICE_TELEMETRY_METRICS_H_
#define HUBSTATS_SERVICE_TELEMETRY_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/prometheus_text.h"

namespace hubstats::telemetry {

class Counter {
 public:
  void Increment(uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted in fixed buckets `value <= bound` (Prometheus' `le`), plus +Inf.
class Histogram {
 public:
  // `upper_bounds` ascending, finite, not empty.
  explicit Histogram(std::vector<double> upper_bounds);

  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<uint64_t> cumulative;  // Per bound, then +Inf (== count).
    double sum = 0;
    uint64_t count() const { return cumulative.empty() ? 0 : cumulative.back(); }
  };
  // Buckets are read one by one while observations may go on, so a snapshot can miss the
  // latest ones; its cumulative counts are always consistent with each other.
  Snapshot snapshot() const;

 private:
  const std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // Not cumulative; one more for +Inf.
  std::atomic<double> sum_{0};
};

// Bucket bounds for durations in seconds: 0.5 ms .. 30 s, roughly x2.5 apart.
std::vector<double> LatencyBuckets();
// `count` bounds from `start`, each `factor` times the one before.
std::vector<double> ExponentialBuckets(double start, double factor, int count);

// The series of one metric, one per combination of label values.
template <typename T>
class Family {
 public:
  // The series with these label values (in the order of the family's label names), created
  // at the first call. The reference stays valid for the registry's life.
  T& WithLabels(std::initializer_list<std::string_view> values);
  // The series of a family without labels.
  T& Get() { return WithLabels({}); }

 private:
  friend class Registry;
  Family(std::string name, std::vector<std::string> label_names,
         std::function<std::unique_ptr<T>()> make)
      : name_(std::move(name)), label_names_(std::move(label_names)), make_(std::move(make)) {}

  const std::string name_;
  const std::vector<std::string> label_names_;
  const std::function<std::unique_ptr<T>()> make_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_;  // Ordered: stable output.
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // By convention counter names end in `_total` and durations are in seconds (`_seconds`).
  Family<Counter>& AddCounter(std::string name, std::string help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(std::string name, std::string help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(std::string name, std::string help,
                                  std::vector<double> upper_bounds,
                                  std::vector<std::string> label_names = {});
  // A gauge without labels whose value `read` returns at each scrape.
  void AddGaugeCallback(std::string name, std::string help, std::function<double()> read);

  // Every family in the Prometheus text format.
  std::string Scrape() const;

 private:
  struct Entry;
  // Checks the names and adds the family; `write` writes its samples at each scrape.
  void Add(std::string name, std::string help, MetricType type,
           const std::vector<std::string>& label_names, std::shared_ptr<void> family,
           std::function<void(PrometheusTextWriter&)> write);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Entry>> entries_;
};

// Aborts with `message`: for the programmer errors listed above.
[[noreturn]] void MetricsMisuse(const std::string& message);

template <typename T>
T& Family<T>::WithLabels(std::initializer_list<std::string_view> values) {
  if (values.size() != label_names_.size()) {
    MetricsMisuse(name_ + ": expected " + std::to_string(label_names_.size()) + " label values");
  }
  std::vector<std::string> key(values.begin(), values.end());
  std::lock_guard lock(mutex_);
  auto [it, inserted] = series_.try_emplace(std::move(key));
  if (inserted) it->second = make_();
  return *it->second;
}

}  // namespace hubstats::telemetry

#endif  // HUBSTATS_SERVICE_TELEMETRY_METRICS_H_
