#include "app/model_table.h"

#include "core/model_id.h"
#include "core/size_class.h"

namespace hubstats {
namespace {

constexpr size_t kArenaBlock = 1 << 20;

}  // namespace

absl::string_view StringArena::Store(absl::string_view text) {
  if (text.size() > kArenaBlock / 4) {
    // Rare long names get a block of their own, so blocks stay full.
    blocks_.emplace_front(text);
    return blocks_.front();
  }
  // Appending within the reserved capacity never moves a block's bytes, so views stay valid.
  if (blocks_.empty() || blocks_.back().size() + text.size() > blocks_.back().capacity()) {
    blocks_.emplace_back().reserve(kArenaBlock);
  }
  std::string& block = blocks_.back();
  const size_t offset = block.size();
  block.append(text.data(), text.size());
  return absl::string_view(block.data() + offset, text.size());
}

uint32_t Interner::Intern(absl::string_view name) {
  if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  const absl::string_view stored = arena_.Store(name);
  const auto id = static_cast<uint32_t>(names_.size());
  names_.push_back(stored);
  ids_.emplace(stored, id);
  return id;
}

std::optional<uint32_t> Interner::Find(absl::string_view name) const {
  auto it = ids_.find(name);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

ModelTable::ModelTable(const TaskTable& tasks)
    : table_(tasks), by_id_(0, IdHash{&models_}, IdEq{&models_}) {
  const ModelClass unknown = ModelClass::Unknown();
  unknown_.modality = unknown.modality;
  unknown_.task = task_keys_.Intern(unknown.task);
  unknown_.architecture = architecture_keys_.Intern(unknown.architecture);
  unknown_.library = library_keys_.Intern(unknown.library);
}

uint32_t ModelTable::Add(absl::string_view model_id, uint32_t shard, uint32_t index) {
  if (shard >= by_index_.size()) by_index_.resize(shard + 1);
  std::vector<uint32_t>& indexes = by_index_[shard];
  if (index >= indexes.size()) indexes.resize(index + 1, 0);
  if (auto it = by_id_.find(model_id); it != by_id_.end()) {
    const uint32_t number = *it;
    ModelEntry& entry = models_[number];
    // A store that lost its data may give a model another index: follow it.
    if (entry.shard != shard || entry.index != index) {
      if (entry.index < by_index_[entry.shard].size()) by_index_[entry.shard][entry.index] = 0;
      entry.shard = shard;
      entry.index = index;
    }
    indexes[index] = number + 1;
    return number;
  }
  const auto number = static_cast<uint32_t>(models_.size());
  ModelEntry& entry = models_.emplace_back();
  entry.id = ids_.Store(model_id);
  entry.author = authors_.Intern(AuthorOf(model_id));
  entry.shard = shard;
  entry.index = index;
  entry.cls = unknown_;
  by_id_.insert(number);
  indexes[index] = number + 1;
  return number;
}

std::optional<uint32_t> ModelTable::Find(absl::string_view model_id) const {
  auto it = by_id_.find(model_id);
  if (it == by_id_.end()) return std::nullopt;
  return *it;
}

std::optional<uint32_t> ModelTable::FindIndex(uint32_t shard, uint32_t index) const {
  if (shard >= by_index_.size() || index >= by_index_[shard].size()) return std::nullopt;
  const uint32_t stored = by_index_[shard][index];
  if (stored == 0) return std::nullopt;
  return stored - 1;
}

ClassKey ModelTable::Classify(const CatalogRecord& record) {
  // The core's classification, so classes here and everywhere else agree by construction.
  const ModelClass model_class = hubstats::Classify(record, table_);
  ClassKey key;
  key.modality = model_class.modality;
  key.size_bucket = static_cast<int8_t>(model_class.size_bucket.value_or(-1));
  key.task = task_keys_.Intern(model_class.task);
  key.architecture = architecture_keys_.Intern(model_class.architecture);
  key.library = library_keys_.Intern(model_class.library);
  return key;
}

ClassKey ModelTable::SetRecord(uint32_t number, const CatalogRecord& record) {
  ModelEntry& entry = models_[number];
  const ClassKey before = entry.cls;
  if (!entry.catalogued) ++catalogued_;
  entry.catalogued = true;
  entry.modality_override = record.modality ? static_cast<int8_t>(*record.modality) : -1;
  entry.architecture = record.architecture;
  entry.parameters = record.num_parameters;
  entry.cls = Classify(record);
  if (entry.cls.size_bucket != before.size_bucket) {
    if (bucket_slot_.size() < models_.size()) bucket_slot_.resize(models_.size(), 0);
    if (before.size_bucket >= 0) {  // Swap-remove from the old bucket's list.
      std::vector<uint32_t>& list = bucket_models_[before.size_bucket];
      const uint32_t moved = list.back();
      list[bucket_slot_[number]] = moved;
      bucket_slot_[moved] = bucket_slot_[number];
      list.pop_back();
    }
    if (entry.cls.size_bucket >= 0) {
      std::vector<uint32_t>& list = bucket_models_[entry.cls.size_bucket];
      bucket_slot_[number] = static_cast<uint32_t>(list.size());
      list.push_back(number);
    }
  }
  return before;
}

std::optional<CatalogRecord> ModelTable::Record(uint32_t number) const {
  const ModelEntry& entry = models_[number];
  if (!entry.catalogued) return std::nullopt;
  CatalogRecord record;
  record.model_id = std::string(entry.id);
  // A record's task and library keys are its values, or kNoneKey for an empty one.
  auto value = [](absl::string_view key) {
    return key == kNoneKey ? std::string() : std::string(key);
  };
  record.pipeline_tag = value(task_keys_.Name(entry.cls.task));
  record.library_name = value(library_keys_.Name(entry.cls.library));
  if (entry.modality_override >= 0) {
    record.modality = static_cast<Modality>(entry.modality_override);
  }
  record.num_parameters = entry.parameters;
  record.architecture = entry.architecture;
  return record;
}

ModelClass ModelTable::ClassOf(const ClassKey& key) const {
  ModelClass result;
  result.modality = key.modality;
  if (key.size_bucket >= 0) result.size_bucket = key.size_bucket;
  result.task = std::string(task_keys_.Name(key.task));
  result.architecture = std::string(architecture_keys_.Name(key.architecture));
  result.library = std::string(library_keys_.Name(key.library));
  return result;
}

}  // namespace hubstats
