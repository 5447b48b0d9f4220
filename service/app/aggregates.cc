#include "app/aggregates.h"

namespace hubstats {
namespace {

void AddTo(std::vector<int64_t>& counts, uint32_t key, int64_t downloads) {
  if (key >= counts.size()) counts.resize(key + 1, 0);
  counts[key] += downloads;
}

}  // namespace

void Aggregates::Add(const ClassKey& cls, int64_t downloads) {
  const auto modality = static_cast<size_t>(cls.modality);
  size_[modality][cls.size_bucket < 0 ? kSizeSlots - 1 : cls.size_bucket] += downloads;
  AddTo(task_[modality], cls.task, downloads);
  AddTo(architecture_[modality], cls.architecture, downloads);
  AddTo(library_[modality], cls.library, downloads);
}

void Aggregates::Merge(const Aggregates& other) {
  auto merge = [](PerKey& into, const PerKey& from) {
    if (from.size() > into.size()) into.resize(from.size(), 0);
    for (size_t key = 0; key < from.size(); ++key) into[key] += from[key];
  };
  for (size_t m = 0; m < size_.size(); ++m) {
    for (int slot = 0; slot < kSizeSlots; ++slot) size_[m][slot] += other.size_[m][slot];
    merge(task_[m], other.task_[m]);
    merge(architecture_[m], other.architecture_[m]);
    merge(library_[m], other.library_[m]);
  }
}

int64_t Aggregates::Total(Modality modality) const {
  int64_t total = 0;
  for (int64_t downloads : size_[static_cast<size_t>(modality)]) total += downloads;
  return total;
}

int64_t Aggregates::Total() const {
  int64_t total = 0;
  for (Modality modality : AllModalities()) total += Total(modality);
  return total;
}

AggregateCounts Aggregates::Counts(const ModelTable& table, AggregateKind dimension) const {
  AggregateCounts counts;
  for (Modality modality : AllModalities()) {
    const auto m = static_cast<size_t>(modality);
    for (int slot = 0; slot < kSizeSlots; ++slot) {
      if (size_[m][slot] == 0) continue;
      const std::optional<int> bucket =
          slot == kSizeSlots - 1 ? std::nullopt : std::optional<int>(slot);
      counts[AggregateField(AggregateKind::kSize, modality, SizeValue(bucket))] = size_[m][slot];
    }
    const PerKey* keys = nullptr;
    const Interner* names = nullptr;
    switch (dimension) {
      case AggregateKind::kTask:
        keys = &task_[m];
        names = &table.tasks();
        break;
      case AggregateKind::kArchitecture:
        keys = &architecture_[m];
        names = &table.architectures();
        break;
      case AggregateKind::kLibrary:
        keys = &library_[m];
        names = &table.libraries();
        break;
      case AggregateKind::kSize:
        break;
    }
    if (keys == nullptr) continue;
    for (uint32_t key = 0; key < keys->size(); ++key) {
      if ((*keys)[key] == 0) continue;
      counts[AggregateField(dimension, modality, names->Name(key))] = (*keys)[key];
    }
  }
  return counts;
}

}  // namespace hubstats
