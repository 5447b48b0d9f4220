// Scope: the downloads of one span of time (all time, one day, the rolling window, or any range
// of days) as the read model keeps them: per model, per author, per author and modality, the
// aggregates, how many models and authors have downloads, and exact rankings built on demand.
//
// All time and the rolling window are dense (an array slot per model, per author and per author
// and modality); days and ranges are sparse (only models with downloads). A sparse scope counts
// per author and modality only once a per-modality ranking of authors is built on it: until
// then no query needs those counts, and they cost a hash lookup per change. Every change goes
// through Add or Reclassify, which keep the aggregates and the rankings (app/top_tracker.h) in
// step with the counts.
//
// Not thread-safe: the read model guards it.
#ifndef HUBSTATS_SERVICE_APP_SCOPE_H_
#define HUBSTATS_SERVICE_APP_SCOPE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "app/aggregates.h"
#include "app/day_counts.h"
#include "app/model_table.h"
#include "app/top_tracker.h"
#include "store/store.h"

namespace hubstats {

enum class RankBy { kModel, kAuthor };

class Scope {
 public:
  enum class Layout { kDense, kSparse };
  // `table` must outlive the scope.
  Scope(const ModelTable& table, Layout layout, size_t ranking_capacity);
  ~Scope();

  // Adds `downloads` (may be negative) of model `number`, whose entry is `model`.
  void Add(uint32_t number, const ModelEntry& model, int64_t downloads);
  // A hint that Add(number, model, ...) comes soon: the counters it changes are fetched into
  // the cache meanwhile, so a run of Adds waits for memory in parallel, not one at a time.
  void Prefetch(uint32_t number, const ModelEntry& model) const;
  // Moves the model's downloads here from class `before` to its class now (`model.cls`).
  void Reclassify(uint32_t number, const ModelEntry& model, const ClassKey& before);

  int64_t Model(uint32_t number) const;
  int64_t Author(uint32_t author) const;
  void ForEachModel(absl::FunctionRef<void(uint32_t number, int64_t downloads)> visit) const;
  // How many entries ForEachModel steps through: every model slot of a dense scope, the models
  // with downloads of a sparse one (what a walk costs, to choose between walks).
  size_t walk_length() const {
    return layout_ == Layout::kDense ? dense_models_.size() : sparse_models_.size();
  }

  const Aggregates& aggregates() const { return aggregates_; }
  int64_t models_with_downloads() const { return models_with_downloads_; }
  int64_t authors_with_downloads() const { return authors_with_downloads_; }
  // Grows with every change: a scope whose generation is unchanged has not changed.
  uint64_t generation() const { return generation_; }

  // Whether Top(by, modality, n) can answer without building its ranking.
  bool RankingReady(RankBy by, std::optional<Modality> modality, size_t n) const;
  // Builds that ranking (tracking at least n members).
  void BuildRanking(RankBy by, std::optional<Modality> modality, size_t n);
  // The first n members (model or author numbers) with their downloads. Requires
  // RankingReady(by, modality, n).
  std::vector<std::pair<uint32_t, int64_t>> Top(RankBy by, std::optional<Modality> modality,
                                                size_t n) const;

  // Packs a sparse scope's per-model counts (see DayCounts::Freeze).
  void Freeze() { sparse_models_.Freeze(); }

 private:
  struct Rankings;
  static uint64_t AuthorModality(uint32_t author, Modality modality) {
    return uint64_t{author} << 8 | static_cast<uint64_t>(modality);
  }
  // The slot of (author, modality) in dense_author_modality_: an author's modalities side by
  // side, authors in number order.
  static size_t DenseSlot(uint32_t author, Modality modality) {
    return size_t{author} * kModalityCount + static_cast<size_t>(modality);
  }
  int64_t AddModel(uint32_t number, int64_t downloads);
  int64_t AddAuthor(uint32_t author, int64_t downloads);
  // The author's new count in the modality; 0 while a sparse scope does not count them.
  int64_t AddAuthorModality(uint32_t author, Modality modality, int64_t downloads);
  // A sparse scope starts counting per author and modality: from its models, the first time.
  void CountAuthorModalities();
  TopTracker& Tracker(RankBy by, std::optional<Modality> modality) const;

  const ModelTable& table_;
  const Layout layout_;
  const size_t ranking_capacity_;
  std::vector<int64_t> dense_models_, dense_authors_;
  std::vector<int64_t> dense_author_modality_;  // At DenseSlot(author, modality).
  DayCounts sparse_models_;
  absl::flat_hash_map<uint32_t, int64_t> sparse_authors_;
  absl::flat_hash_map<uint64_t, int64_t> author_modality_;  // Sparse, once counted.
  bool author_modality_counted_ = false;
  Aggregates aggregates_;
  int64_t models_with_downloads_ = 0;
  int64_t authors_with_downloads_ = 0;
  uint64_t generation_ = 0;
  std::unique_ptr<Rankings> rankings_;  // Made on first use.
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_SCOPE_H_
