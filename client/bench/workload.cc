#include "workload.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/enum_names.h"
#include "core/size_class.h"

namespace hubstats::bench {
namespace {

// splitmix64: a fixed pseudo-random value per (index, salt), so a model's class never depends
// on how the hub was walked.
uint64_t Mix(uint64_t value) {
  value += 0x9e3779b97f4a7c15ull;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ull;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebull;
  return value ^ (value >> 31);
}

double Unit(int64_t index, uint64_t salt) {
  return static_cast<double>(Mix(static_cast<uint64_t>(index) * 1315423911ull + salt) >> 11) /
         static_cast<double>(1ull << 53);
}

template <typename T>
T Pick(double unit, const std::vector<std::pair<double, T>>& shares) {
  double sum = 0;
  for (const auto& [share, value] : shares) {
    sum += share;
    if (unit < sum) return value;
  }
  return shares.back().second;
}

}  // namespace

Hub::Hub(int64_t models, double exponent) : models_(models) {
  cumulative_.resize(models);
  double sum = 0;
  for (int64_t i = 0; i < models; ++i) {
    sum += std::pow(static_cast<double>(i + 1), -exponent);
    cumulative_[i] = sum;
  }
  for (double& value : cumulative_) value /= sum;
  ids_.reserve(models);
  for (int64_t i = 0; i < models; ++i) ids_.push_back(Model(i).id);
}

SyntheticModel Hub::Model(int64_t index) const {
  SyntheticModel model;
  // Authors own consecutive runs of models that grow along the tail: a few organisations hold
  // the most downloaded models, like on the Hub.
  model.author =
      absl::StrCat("org", static_cast<int64_t>(std::pow(static_cast<double>(index), 0.75)));
  model.id = absl::StrCat(model.author, "/m", index);
  // The report's modality shares.
  model.modality = Pick<v1::Modality>(Unit(index, 1), {{0.581, v1::MODALITY_NLP},
                                                       {0.212, v1::MODALITY_COMPUTER_VISION},
                                                       {0.151, v1::MODALITY_AUDIO},
                                                       {0.033, v1::MODALITY_MULTIMODAL},
                                                       {0.017, v1::MODALITY_TIME_SERIES},
                                                       {0.006, v1::MODALITY_OTHER}});
  switch (model.modality) {
    case v1::MODALITY_NLP:
      model.pipeline_tag = Unit(index, 2) < 0.5 ? "fill-mask" : "text-generation";
      break;
    case v1::MODALITY_COMPUTER_VISION:
      model.pipeline_tag = "image-classification";
      break;
    case v1::MODALITY_AUDIO:
      model.pipeline_tag = "automatic-speech-recognition";
      break;
    case v1::MODALITY_MULTIMODAL:
      model.pipeline_tag = "image-text-to-text";
      break;
    case v1::MODALITY_TIME_SERIES:
      model.pipeline_tag = "time-series-forecasting";
      break;
    default:
      model.pipeline_tag = "graph-ml";
  }
  // 77.76% of models of known size, split like the report's cumulative shares.
  const double size = Unit(index, 3);
  model.parameters = 0;
  if (size < 0.7776) {
    const double within = size / 0.7776;
    const int64_t lower = within < 0.6983   ? 10'000'000
                          : within < 0.8633 ? 200'000'000
                          : within < 0.9248 ? 500'000'000
                                            : 1'000'000'000;
    const int64_t span = within < 0.9248 ? lower : 69'000'000'000;
    model.parameters = lower + static_cast<int64_t>(Unit(index, 4) * static_cast<double>(span - 1));
  }
  model.architecture =
      Pick<v1::Architecture>(Unit(index, 5), {{0.45, v1::ARCHITECTURE_ENCODER},
                                              {0.095, v1::ARCHITECTURE_DECODER},
                                              {0.03, v1::ARCHITECTURE_ENCODER_DECODER},
                                              {0.2, v1::ARCHITECTURE_OTHER},
                                              {1.0, v1::ARCHITECTURE_UNSPECIFIED}});
  return model;
}

v1::ModelRecord Hub::Record(int64_t index) const {
  const SyntheticModel model = Model(index);
  v1::ModelRecord record;
  record.set_model_id(model.id);
  record.set_pipeline_tag(model.pipeline_tag);
  record.set_num_parameters(model.parameters);
  record.set_architecture(model.architecture);
  record.set_library_name("transformers");
  return record;
}

int64_t Hub::Sample(std::mt19937_64& random) const {
  const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(random);
  return std::min<int64_t>(
      models_ - 1,
      std::lower_bound(cumulative_.begin(), cumulative_.end(), unit) - cumulative_.begin());
}

void Hub::FillBatch(v1::IngestRequest& request, int events, int days, int64_t last_day_start,
                    std::mt19937_64& random) const {
  request.clear_events();
  for (int i = 0; i < events; ++i) {
    v1::DownloadEvent* event = request.add_events();
    event->set_model_id(ids_[Sample(random)]);
    const int64_t day = static_cast<int64_t>(random() % static_cast<uint64_t>(days));
    event->mutable_timestamp()->set_seconds(last_day_start - day * 86400 +
                                            static_cast<int64_t>(random() % 86400));
    event->set_count(1 + static_cast<int64_t>(random() % 3));
  }
}

ModelClass ClassOf(const SyntheticModel& model) {
  ModelClass model_class;
  model_class.modality = client::ModalityFromProto(model.modality).value_or(Modality::kUnknown);
  if (model.parameters > 0) model_class.size_bucket = FineBucketOf(model.parameters);
  model_class.task = model.pipeline_tag;
  const absl::string_view architecture =
      ArchitectureName(static_cast<Architecture>(model.architecture));
  model_class.architecture = std::string(architecture.empty() ? kNoneKey : architecture);
  model_class.library = std::string(kNoneKey);
  return model_class;
}

double Percentile(std::vector<double>& samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const size_t index =
      std::min(samples.size() - 1,
               static_cast<size_t>(std::ceil(p / 100.0 * samples.size())) - (p > 0 ? 1 : 0));
  return samples[index];
}

}  // namespace hubstats::bench
