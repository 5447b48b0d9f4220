// The benchmark's synthetic workload: a hub of N models with the report's modality, size and
// architecture mix, and a Zipf-distributed stream of download events over them.
#ifndef HUBSTATS_CLIENT_BENCH_WORKLOAD_H_
#define HUBSTATS_CLIENT_BENCH_WORKLOAD_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/model_class.h"
#include "hubstats/v1/hubstats.pb.h"

namespace hubstats::bench {

// What a model of the synthetic hub is. Deterministic per index.
struct SyntheticModel {
  std::string id;      // "<author>/m<index>"
  std::string author;  // "org<k>": authors own runs of models, few hold the head.
  v1::Modality modality;
  int64_t parameters;  // 0 = unknown
  v1::Architecture architecture;
  std::string pipeline_tag;
};

class Hub {
 public:
  // `models` models; Zipf exponent `exponent` for downloads (model 0 is the most downloaded).
  Hub(int64_t models, double exponent);

  int64_t size() const { return models_; }
  SyntheticModel Model(int64_t index) const;
  v1::ModelRecord Record(int64_t index) const;

  // A model index drawn from the Zipf distribution.
  int64_t Sample(std::mt19937_64& random) const;

  // Fills `request` with `events` events (model, count 1..3, a time on one of the `days` days
  // ending with `last_day_start`, Unix seconds of that day's midnight).
  void FillBatch(v1::IngestRequest& request, int events, int days, int64_t last_day_start,
                 std::mt19937_64& random) const;

 private:
  int64_t models_;
  std::vector<double> cumulative_;  // Zipf CDF.
  std::vector<std::string> ids_;    // Model ids, built once.
};

// The class a do-it-yourself job knows a model by up front (for the direct-to-Redis
// baselines): its modality, size bucket, task and architecture; no library.
ModelClass ClassOf(const SyntheticModel& model);

// p-th percentile (0..100) of `samples` (sorted in place); 0 when empty.
double Percentile(std::vector<double>& samples, double p);

}  // namespace hubstats::bench

#endif  // HUBSTATS_CLIENT_BENCH_WORKLOAD_H_
