// The contract, recomputed from scratch: the events and catalog a test sent (Truth), and what
// every answer must then be, written here independently of the service's code. Shared by the
// integration tests (service_test.cc, walk_checks.cc).
#ifndef HUBSTATS_TESTS_INTEGRATION_TRUTH_H_
#define HUBSTATS_TESTS_INTEGRATION_TRUTH_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hubstats/v1/hubstats.pb.h"
#include "ingest_calls.h"

namespace hubstats::integration {

struct TruthRecord {
  std::string tag;
  std::string modality;  // Explicit override, "" = derive from the tag.
  int64_t parameters = 0;
  v1::Architecture architecture = v1::ARCHITECTURE_UNSPECIFIED;
  std::string library;
};

struct TruthEvent {
  std::string model;
  std::string day;  // YYYY-MM-DD
  int64_t count;
  std::string revision;
};

struct Range {
  std::string first, last;  // "" = open.
  bool Contains(const std::string& day) const {
    return (first.empty() || first <= day) && (last.empty() || day <= last);
  }
};

inline const std::map<std::string, std::string>& TaskModalities() {
  // The subset of the Hub's task list this test uses.
  static const auto* table = new std::map<std::string, std::string>{
      {"fill-mask", "nlp"},
      {"text-generation", "nlp"},
      {"image-classification", "computer_vision"},
      {"automatic-speech-recognition", "audio"},
      {"image-text-to-text", "multimodal"},
      {"time-series-forecasting", "time_series"},
      {"tabular-regression", "tabular"},
  };
  return *table;
}

inline std::string ArchitectureKey(v1::Architecture architecture) {
  switch (architecture) {
    case v1::ARCHITECTURE_ENCODER:
      return "encoder";
    case v1::ARCHITECTURE_DECODER:
      return "decoder";
    case v1::ARCHITECTURE_ENCODER_DECODER:
      return "encoder-decoder";
    case v1::ARCHITECTURE_OTHER:
      return "other";
    default:
      return "(none)";
  }
}

inline std::string AuthorOfId(const std::string& id) {
  const size_t slash = id.find('/');
  return slash == std::string::npos ? "(canonical)" : id.substr(0, slash);
}

struct Truth {
  std::vector<TruthEvent> events;
  std::map<std::string, TruthRecord> catalog;

  std::string Modality(const std::string& model) const {
    auto it = catalog.find(model);
    if (it == catalog.end()) return "unknown";
    if (!it->second.modality.empty()) return it->second.modality;
    auto task = TaskModalities().find(it->second.tag);
    return task == TaskModalities().end() ? "other" : task->second;
  }
  // 0 = unknown size.
  int64_t Parameters(const std::string& model) const {
    auto it = catalog.find(model);
    return it == catalog.end() ? 0 : it->second.parameters;
  }
  std::string Key(const std::string& model, v1::Dimension dimension) const {
    auto it = catalog.find(model);
    if (it == catalog.end()) return "unknown";
    std::string value;
    switch (dimension) {
      case v1::DIMENSION_TASK:
        value = it->second.tag;
        break;
      case v1::DIMENSION_LIBRARY:
        value = it->second.library;
        break;
      default:
        return ArchitectureKey(it->second.architecture);
    }
    return value.empty() ? "(none)" : value;
  }
  // Downloads per model in the range.
  std::map<std::string, int64_t> PerModel(const Range& range) const {
    std::map<std::string, int64_t> downloads;
    for (const TruthEvent& event : events) {
      if (range.Contains(event.day)) downloads[event.model] += event.count;
    }
    return downloads;
  }
  int64_t Total(const Range& range, const std::string& modality = "") const {
    int64_t total = 0;
    for (const auto& [model, downloads] : PerModel(range)) {
      if (modality.empty() || Modality(model) == modality) total += downloads;
    }
    return total;
  }
};

inline double Share(int64_t part, int64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) * 100.0 / static_cast<double>(whole);
}

inline const char* const kModalityNames[] = {
    "nlp",     "computer_vision",        "audio", "multimodal", "time_series",
    "tabular", "reinforcement_learning", "other", "unknown"};

inline v1::Modality ModalityEnum(const std::string& name) {
  for (int i = 0; i < 9; ++i) {
    if (name == kModalityNames[i]) return static_cast<v1::Modality>(i + 1);
  }
  return v1::MODALITY_UNSPECIFIED;
}

// Talking to servers.

using test_support::Connection;

inline void SetRange(const Range& range, v1::DateRange* out) {
  auto set = [](const std::string& day, v1::Date* date) {
    date->set_year(std::stoi(day.substr(0, 4)));
    date->set_month(std::stoi(day.substr(5, 2)));
    date->set_day(std::stoi(day.substr(8, 2)));
  };
  if (!range.first.empty()) set(range.first, out->mutable_start());
  if (!range.last.empty()) set(range.last, out->mutable_end());
}

// Sets the range, and asks for everything committed anywhere: a replica answers from its read
// model, which follows the store a few milliseconds behind; the checks compare with all writes.
template <typename Request>
void WithRange(const Range& range, Request& request) {
  if (!range.first.empty() || !range.last.empty()) SetRange(range, request.mutable_range());
  request.mutable_freshness()->set_fresh(true);
}

}  // namespace hubstats::integration

#endif  // HUBSTATS_TESTS_INTEGRATION_TRUTH_H_
