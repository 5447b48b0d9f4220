#include "app/scope.h"

namespace hubstats {

// One tracker per ranking: models and authors, overall and per modality. Each is built the
// first time it is asked for, then kept current by Add (see TopTracker).
struct Scope::Rankings {
  explicit Rankings(const ModelTable& table, size_t capacity) {
    auto model_name = [&table](uint32_t number) { return table.model(number).id; };
    auto author_name = [&table](uint32_t author) { return table.author_name(author); };
    models = std::make_unique<TopTracker>(model_name, capacity);
    authors = std::make_unique<TopTracker>(author_name, capacity);
    for (int m = 0; m < kModalityCount; ++m) {
      models_by_modality[m] = std::make_unique<TopTracker>(model_name, capacity);
      authors_by_modality[m] = std::make_unique<TopTracker>(author_name, capacity);
    }
    for (TopTracker* tracker : All()) tracker->Invalidate();  // Not built yet.
  }
  std::vector<TopTracker*> All() {
    std::vector<TopTracker*> all = {models.get(), authors.get()};
    for (int m = 0; m < kModalityCount; ++m) {
      all.push_back(models_by_modality[m].get());
      all.push_back(authors_by_modality[m].get());
    }
    return all;
  }
  std::unique_ptr<TopTracker> models, authors;
  std::array<std::unique_ptr<TopTracker>, kModalityCount> models_by_modality, authors_by_modality;
};

Scope::Scope(const ModelTable& table, Layout layout, size_t ranking_capacity)
    : table_(table), layout_(layout), ranking_capacity_(ranking_capacity) {}

Scope::~Scope() = default;

int64_t Scope::AddModel(uint32_t number, int64_t downloads) {
  int64_t count = 0;
  if (layout_ == Layout::kDense) {
    if (number >= dense_models_.size()) dense_models_.resize(number + 1, 0);
    count = dense_models_[number] += downloads;
  } else {
    count = sparse_models_.Add(number, downloads);
  }
  const int64_t before = count - downloads;
  if (before == 0 && count != 0) ++models_with_downloads_;
  if (before != 0 && count == 0) --models_with_downloads_;
  return count;
}

int64_t Scope::AddAuthor(uint32_t author, int64_t downloads) {
  int64_t count = 0;
  if (layout_ == Layout::kDense) {
    if (author >= dense_authors_.size()) dense_authors_.resize(author + 1, 0);
    count = dense_authors_[author] += downloads;
  } else {
    auto [it, inserted] = sparse_authors_.try_emplace(author, 0);
    count = it->second += downloads;
    if (count == 0) sparse_authors_.erase(it);
  }
  const int64_t before = count - downloads;
  if (before == 0 && count != 0) ++authors_with_downloads_;
  if (before != 0 && count == 0) --authors_with_downloads_;
  return count;
}

int64_t Scope::AddAuthorModality(uint32_t author, Modality modality, int64_t downloads) {
  if (layout_ == Layout::kDense) {
    // Authors are numbered densely as they appear, and the most downloaded come first: their
    // slots share cache lines, where a hash map spreads them (it was 44% of applying a change).
    const size_t slot = DenseSlot(author, modality);
    if (slot >= dense_author_modality_.size()) {
      dense_author_modality_.resize((size_t{author} + 1) * kModalityCount, 0);
    }
    return dense_author_modality_[slot] += downloads;
  }
  if (!author_modality_counted_) return 0;
  auto [it, inserted] = author_modality_.try_emplace(AuthorModality(author, modality), 0);
  const int64_t count = it->second += downloads;
  if (count == 0) author_modality_.erase(it);
  return count;
}

void Scope::CountAuthorModalities() {
  if (layout_ == Layout::kDense || author_modality_counted_) return;
  author_modality_counted_ = true;
  ForEachModel([this](uint32_t number, int64_t downloads) {
    const ModelEntry& model = table_.model(number);
    AddAuthorModality(model.author, model.cls.modality, downloads);
  });
}

void Scope::Prefetch(uint32_t number, const ModelEntry& model) const {
  if (layout_ == Layout::kSparse) {
    sparse_models_.Prefetch(number);
    sparse_authors_.prefetch(model.author);
    return;
  }
  if (number < dense_models_.size()) __builtin_prefetch(&dense_models_[number], 1);
  if (model.author < dense_authors_.size()) __builtin_prefetch(&dense_authors_[model.author], 1);
  const size_t slot = DenseSlot(model.author, model.cls.modality);
  if (slot < dense_author_modality_.size()) __builtin_prefetch(&dense_author_modality_[slot], 1);
}

void Scope::Add(uint32_t number, const ModelEntry& model, int64_t downloads) {
  if (downloads == 0) return;
  ++generation_;
  const Modality modality = model.cls.modality;
  const int64_t model_count = AddModel(number, downloads);
  const int64_t author_count = AddAuthor(model.author, downloads);
  const int64_t author_modality_count = AddAuthorModality(model.author, modality, downloads);
  aggregates_.Add(model.cls, downloads);
  if (!rankings_) return;
  const auto m = static_cast<size_t>(modality);
  if (downloads > 0) {
    rankings_->models->Grow(number, model_count);
    rankings_->models_by_modality[m]->Grow(number, model_count);
    rankings_->authors->Grow(model.author, author_count);
    rankings_->authors_by_modality[m]->Grow(model.author, author_modality_count);
  } else {
    rankings_->models->Shrink(number);
    rankings_->models_by_modality[m]->Shrink(number);
    rankings_->authors->Shrink(model.author);
    rankings_->authors_by_modality[m]->Shrink(model.author);
  }
}

void Scope::Reclassify(uint32_t number, const ModelEntry& model, const ClassKey& before) {
  const int64_t downloads = Model(number);
  if (downloads == 0 || before == model.cls) return;
  ++generation_;
  aggregates_.Add(before, -downloads);
  aggregates_.Add(model.cls, downloads);
  if (before.modality == model.cls.modality) return;
  AddAuthorModality(model.author, before.modality, -downloads);
  const int64_t joined = AddAuthorModality(model.author, model.cls.modality, downloads);
  if (!rankings_) return;
  // The model leaves one modality's population and joins another's.
  rankings_->models_by_modality[static_cast<size_t>(before.modality)]->Shrink(number);
  rankings_->authors_by_modality[static_cast<size_t>(before.modality)]->Shrink(model.author);
  rankings_->models_by_modality[static_cast<size_t>(model.cls.modality)]->Grow(number, downloads);
  rankings_->authors_by_modality[static_cast<size_t>(model.cls.modality)]->Grow(model.author,
                                                                                joined);
}

int64_t Scope::Model(uint32_t number) const {
  if (layout_ == Layout::kDense) {
    return number < dense_models_.size() ? dense_models_[number] : 0;
  }
  return sparse_models_.Get(number);
}

int64_t Scope::Author(uint32_t author) const {
  if (layout_ == Layout::kDense) {
    return author < dense_authors_.size() ? dense_authors_[author] : 0;
  }
  auto it = sparse_authors_.find(author);
  return it == sparse_authors_.end() ? 0 : it->second;
}

void Scope::ForEachModel(absl::FunctionRef<void(uint32_t, int64_t)> visit) const {
  if (layout_ == Layout::kSparse) {
    sparse_models_.ForEach(visit);
    return;
  }
  for (uint32_t number = 0; number < dense_models_.size(); ++number) {
    if (dense_models_[number] != 0) visit(number, dense_models_[number]);
  }
}

TopTracker& Scope::Tracker(RankBy by, std::optional<Modality> modality) const {
  Rankings& rankings = *rankings_;
  if (by == RankBy::kModel) {
    return modality ? *rankings.models_by_modality[static_cast<size_t>(*modality)]
                    : *rankings.models;
  }
  return modality ? *rankings.authors_by_modality[static_cast<size_t>(*modality)]
                  : *rankings.authors;
}

bool Scope::RankingReady(RankBy by, std::optional<Modality> modality, size_t n) const {
  if (!rankings_) return false;
  const TopTracker& tracker = Tracker(by, modality);
  return tracker.valid() && tracker.capacity() >= n;
}

void Scope::BuildRanking(RankBy by, std::optional<Modality> modality, size_t n) {
  if (!rankings_) rankings_ = std::make_unique<Rankings>(table_, ranking_capacity_);
  TopTracker& tracker = Tracker(by, modality);
  if (tracker.valid() && tracker.capacity() >= n) return;
  std::vector<std::pair<uint32_t, int64_t>> population;
  if (by == RankBy::kModel) {
    ForEachModel([&](uint32_t number, int64_t downloads) {
      if (!modality || table_.model(number).cls.modality == *modality) {
        population.emplace_back(number, downloads);
      }
    });
  } else if (!modality) {
    if (layout_ == Layout::kDense) {
      for (uint32_t author = 0; author < dense_authors_.size(); ++author) {
        if (dense_authors_[author] != 0) population.emplace_back(author, dense_authors_[author]);
      }
    } else {
      population.assign(sparse_authors_.begin(), sparse_authors_.end());
    }
  } else if (layout_ == Layout::kDense) {
    const auto m = static_cast<size_t>(*modality);
    for (size_t slot = m; slot < dense_author_modality_.size(); slot += kModalityCount) {
      if (const int64_t downloads = dense_author_modality_[slot]) {
        population.emplace_back(static_cast<uint32_t>(slot / kModalityCount), downloads);
      }
    }
  } else {
    CountAuthorModalities();
    for (const auto& [key, downloads] : author_modality_) {
      if (static_cast<Modality>(key & 0xff) == *modality) {
        population.emplace_back(static_cast<uint32_t>(key >> 8), downloads);
      }
    }
  }
  // Grow past the asked size, so the next larger question does not rebuild again.
  tracker.Rebuild(std::move(population), std::max({n, ranking_capacity_, tracker.capacity()}));
}

std::vector<std::pair<uint32_t, int64_t>> Scope::Top(RankBy by, std::optional<Modality> modality,
                                                     size_t n) const {
  return Tracker(by, modality).Top(n);
}

}  // namespace hubstats
