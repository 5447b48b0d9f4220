// ModelTable: every model and author a read model knows, in compact form.
//
// A model has a number in the table (dense, from 0, local to this process), its shard and index
// in the store, its author's number, its catalog facts (whether catalogued, the modality
// override, the parameter count, the architecture) and its class under the task table: modality,
// fine size bucket and the breakdown keys for task, architecture and library, each an interned
// name. Names (model ids, authors, keys) are stored once in arenas. A model takes about 56
// bytes of entry, 4-8 of id index and its id's length (2.2M models: about 200 MB; measured in
// docs/BENCHMARKS.md).
//
// Not thread-safe: the read model guards it.
#ifndef HUBSTATS_SERVICE_APP_MODEL_TABLE_H_
#define HUBSTATS_SERVICE_APP_MODEL_TABLE_H_

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "app/chunked_vector.h"
#include "core/catalog.h"
#include "core/modality.h"
#include "core/model_class.h"
#include "core/size_class.h"

namespace hubstats {

// Stores strings once; views stay valid for the arena's life.
class StringArena {
 public:
  absl::string_view Store(absl::string_view text);

 private:
  std::deque<std::string> blocks_;  // The last one is being filled.
};

// Dense numbers for distinct names, and the names back.
class Interner {
 public:
  uint32_t Intern(absl::string_view name);
  std::optional<uint32_t> Find(absl::string_view name) const;
  absl::string_view Name(uint32_t id) const { return names_[id]; }
  size_t size() const { return names_.size(); }

 private:
  StringArena arena_;
  std::vector<absl::string_view> names_;
  absl::flat_hash_map<absl::string_view, uint32_t> ids_;
};

// A model's class, with the breakdown keys interned (ModelTable::TaskKey() etc. name them).
struct ClassKey {
  Modality modality = Modality::kUnknown;
  int8_t size_bucket = -1;  // Fine bucket; -1 = unknown size.
  uint32_t task = 0;
  uint32_t architecture = 0;
  uint32_t library = 0;
  bool operator==(const ClassKey&) const = default;
};

struct ModelEntry {
  absl::string_view id;
  uint32_t author = 0;
  uint32_t shard = 0;
  uint32_t index = 0;
  // Catalog facts (see ModelTable::Record); the pipeline tag and library are the class's keys.
  bool catalogued = false;
  int8_t modality_override = -1;  // -1 = none.
  Architecture architecture = Architecture::kUnspecified;
  int64_t parameters = 0;
  ClassKey cls;
};

class ModelTable {
 public:
  explicit ModelTable(const TaskTable& tasks);
  // The id index refers to the entries: not copyable or movable.
  ModelTable(const ModelTable&) = delete;
  ModelTable& operator=(const ModelTable&) = delete;

  // The model's number, adding it (uncatalogued, of the unknown class) when new.
  uint32_t Add(absl::string_view model_id, uint32_t shard, uint32_t index);
  std::optional<uint32_t> Find(absl::string_view model_id) const;
  // The model with this shard and index, if known.
  std::optional<uint32_t> FindIndex(uint32_t shard, uint32_t index) const;

  const ModelEntry& model(uint32_t number) const { return models_[number]; }
  size_t model_count() const { return models_.size(); }
  absl::string_view author_name(uint32_t author) const { return authors_.Name(author); }
  size_t author_count() const { return authors_.size(); }
  std::optional<uint32_t> FindAuthor(absl::string_view author) const {
    return authors_.Find(author);
  }
  // Models with a catalog record.
  int64_t catalogued() const { return catalogued_; }

  // Sets the model's record and class; returns its class before.
  ClassKey SetRecord(uint32_t number, const CatalogRecord& record);
  // The model's record as written (nullopt when not catalogued).
  std::optional<CatalogRecord> Record(uint32_t number) const;
  // The ModelClass of a ClassKey, with its keys as names.
  ModelClass ClassOf(const ClassKey& key) const;

  // The catalogued models whose parameter count is in fine size bucket `bucket`, in no order
  // (a boundary inside the bucket splits it by their counts).
  const std::vector<uint32_t>& ModelsInBucket(int bucket) const { return bucket_models_[bucket]; }

  const Interner& tasks() const { return task_keys_; }
  const Interner& architectures() const { return architecture_keys_; }
  const Interner& libraries() const { return library_keys_; }

 private:
  // The id index holds model numbers and hashes and compares them by their entries' ids, so a
  // slot is 4 bytes where a string_view key and its number took 24 (at 2.2M models the table
  // has 4M slots: 21 MB instead of 105 MB).
  struct IdHash {
    using is_transparent = void;
    const ChunkedVector<ModelEntry>* models;
    size_t operator()(absl::string_view id) const { return absl::Hash<absl::string_view>()(id); }
    size_t operator()(uint32_t number) const { return (*this)((*models)[number].id); }
  };
  struct IdEq {
    using is_transparent = void;
    const ChunkedVector<ModelEntry>* models;
    absl::string_view Id(absl::string_view id) const { return id; }
    absl::string_view Id(uint32_t number) const { return (*models)[number].id; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return Id(a) == Id(b);
    }
  };

  ClassKey Classify(const CatalogRecord& record);

  const TaskTable& table_;
  StringArena ids_;
  ChunkedVector<ModelEntry> models_;  // By number; never moves an entry.
  absl::flat_hash_set<uint32_t, IdHash, IdEq> by_id_;
  std::vector<std::vector<uint32_t>> by_index_;  // Per shard: index -> number + 1 (0: none).
  Interner authors_;
  Interner task_keys_, architecture_keys_, library_keys_;
  std::array<std::vector<uint32_t>, kFineBucketCount> bucket_models_;
  std::vector<uint32_t> bucket_slot_;  // Per model number: its place in its bucket's list.
  ClassKey unknown_;
  int64_t catalogued_ = 0;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_MODEL_TABLE_H_
