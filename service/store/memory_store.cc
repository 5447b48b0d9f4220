#include "store/memory_store.h"

#include <algorithm>
#include <mutex>

#include "absl/container/flat_hash_set.h"
#include "core/event.h"

namespace hubstats {

int64_t MemoryStore::InRange(const ModelCounts& counts, const DayRange& range) {
  if (range.all_time()) return counts.all_time;
  int64_t downloads = 0;
  auto it = range.first ? counts.days.lower_bound(*range.first) : counts.days.begin();
  for (; it != counts.days.end() && range.Contains(it->first); ++it) downloads += it->second;
  return downloads;
}

const ModelClass& MemoryStore::ClassOf(const std::string& model_id) const {
  auto it = catalog_.find(model_id);
  return it == catalog_.end() ? unknown_ : it->second.model_class;
}

absl::StatusOr<std::vector<WindowShardResult>> MemoryStore::ApplyWindow(
    absl::Span<const WindowShard> shards) {
  std::unique_lock lock(mutex_);
  std::vector<WindowShardResult> results(shards.size());
  for (size_t s = 0; s < shards.size(); ++s) {
    const ShardDelta& shard = shards[s].delta;
    WindowShardResult& result = results[s];
    // Like RedisStore: check every mark and every author of the shard first, then write.
    for (const Contribution& contribution : shards[s].contributions) {
      auto mark = shard_marks_.find({contribution.producer_id, shard.shard});
      if (mark != shard_marks_.end() && mark->second >= contribution.sequence) {
        result.conflicts.push_back(contribution);
      }
    }
    if (!result.conflicts.empty()) continue;
    for (const Contribution& contribution : shards[s].contributions) {
      uint64_t& mark = shard_marks_[{contribution.producer_id, shard.shard}];
      mark = std::max(mark, contribution.sequence);
    }
    absl::flat_hash_map<std::string, int64_t> added;
    for (const ModelDelta& model : shard.models) added[model.author] += model.total;
    absl::flat_hash_set<std::string> overflowing;
    for (const auto& [author, downloads] : added) {
      auto it = author_totals_.find(author);
      const int64_t current = it == author_totals_.end() ? 0 : it->second;
      if (downloads > kMaxCounterValue - current) {
        overflowing.insert(author);
        result.overflowing_authors.push_back(author);
      }
    }
    for (const ModelDelta& model : shard.models) {
      if (overflowing.contains(model.author)) continue;
      ModelCounts& counts = models_[model.model_id];
      counts.author = model.author;
      counts.all_time += model.total;
      author_totals_[model.author] += model.total;
      for (const DayDelta& day : model.days) {
        counts.days[day.day] += day.count;
        for (const auto& [revision, downloads] : day.revisions) {
          counts.revisions[{day.day, revision}] += downloads;
        }
      }
    }
  }
  return results;
}

absl::StatusOr<std::vector<int64_t>> MemoryStore::ReadAuthorTotals(
    absl::Span<const absl::string_view> authors) {
  std::shared_lock lock(mutex_);
  std::vector<int64_t> totals;
  totals.reserve(authors.size());
  for (absl::string_view author : authors) {
    auto it = author_totals_.find(author);
    totals.push_back(it == author_totals_.end() ? 0 : it->second);
  }
  return totals;
}

absl::StatusOr<std::vector<ProducerVerdict>> MemoryStore::CheckProducers(
    absl::Span<const BatchIdentity> identities) {
  std::shared_lock lock(mutex_);
  std::vector<ProducerVerdict> verdicts;
  for (const BatchIdentity& identity : identities) {
    ProducerVerdict& verdict = verdicts.emplace_back();
    auto log = producers_.find(identity.producer_id);
    if (log == producers_.end()) continue;
    const auto& committed = log->second.committed;
    if (!committed.empty()) verdict.newest_committed = committed.rbegin()->first;
    if (auto same = committed.find(identity.sequence); same != committed.end()) {
      verdict.check = same->second == identity.digest ? ProducerCheck::kDuplicate
                                                      : ProducerCheck::kContentMismatch;
    } else if (identity.sequence <= log->second.floor) {
      verdict.check = ProducerCheck::kDuplicate;
    } else if (identity.sequence < verdict.newest_committed) {
      verdict.check = ProducerCheck::kOutOfOrder;
    }
  }
  return verdicts;
}

absl::Status MemoryStore::CommitProducers(absl::Span<const BatchIdentity> identities) {
  std::unique_lock lock(mutex_);
  for (const BatchIdentity& identity : identities) {
    ProducerLog& log = producers_[identity.producer_id];
    log.committed.emplace(identity.sequence, identity.digest);
    while (log.committed.size() > static_cast<size_t>(kProducerWindow)) {
      log.floor = std::max(log.floor, log.committed.begin()->first);
      log.committed.erase(log.committed.begin());
    }
  }
  return absl::OkStatus();
}

absl::Status MemoryStore::Ping() { return absl::OkStatus(); }

absl::StatusOr<UpsertResult> MemoryStore::UpsertModels(absl::Span<const CatalogEntry> entries) {
  std::unique_lock lock(mutex_);
  UpsertResult result;
  for (const CatalogEntry& entry : entries) {
    // Answers are computed from the catalog on read, so replacing the entry moves history.
    if (ClassOf(entry.record.model_id) != entry.model_class) ++result.reclassified;
    catalog_[entry.record.model_id] = entry;
  }
  return result;
}

absl::StatusOr<AggregateCounts> MemoryStore::ReadAggregates(const DayRange& range) {
  std::shared_lock lock(mutex_);
  AggregateCounts counts;
  for (const auto& [model_id, model] : models_) {
    const int64_t downloads = InRange(model, range);
    if (downloads == 0) continue;
    for (const std::string& field : ClassOf(model_id).AggregateFields()) counts[field] += downloads;
  }
  return counts;
}

absl::StatusOr<TopCandidates> MemoryStore::ReadTop(const DayRange& range, RankBy by,
                                                   std::optional<Modality> modality, int n) {
  std::shared_lock lock(mutex_);
  TopCandidates top;
  absl::flat_hash_map<std::string, int64_t> by_id;
  for (const auto& [model_id, model] : models_) {
    if (modality && ClassOf(model_id).modality != *modality) continue;
    const int64_t downloads = InRange(model, range);
    if (downloads == 0) continue;
    top.total_downloads += downloads;
    by_id[by == RankBy::kModel ? model_id : model.author] += downloads;
  }
  for (auto& [id, downloads] : by_id) top.entries.push_back({id, downloads});
  KeepTop(top.entries, static_cast<size_t>(n));
  return top;
}

absl::StatusOr<Population> MemoryStore::ReadPopulation(const DayRange& range) {
  std::shared_lock lock(mutex_);
  Population population;
  population.catalogued_models = static_cast<int64_t>(catalog_.size());
  absl::flat_hash_set<absl::string_view> authors;
  for (const auto& [model_id, model] : models_) {
    const int64_t downloads = InRange(model, range);
    if (downloads == 0) continue;
    population.total_downloads += downloads;
    ++population.models_with_downloads;
    authors.insert(model.author);
    for (const auto& [day, day_downloads] : model.days) {
      if (!range.Contains(day)) continue;
      if (!population.first_day || day < *population.first_day) population.first_day = day;
      if (!population.last_day || day > *population.last_day) population.last_day = day;
    }
  }
  population.authors_with_downloads = static_cast<int64_t>(authors.size());
  return population;
}

int64_t MemoryStore::RankOf(const std::string& model_id, int64_t downloads,
                            const DayRange& range) const {
  if (downloads == 0) return 0;
  const RankedEntry self{model_id, downloads};
  int64_t ahead = 0;
  for (const auto& [other_id, other] : models_) {
    if (RanksBefore({other_id, InRange(other, range)}, self)) ++ahead;
  }
  return ahead + 1;
}

absl::StatusOr<ModelData> MemoryStore::ReadModel(absl::string_view model_id,
                                                 const DayRange& range) {
  std::shared_lock lock(mutex_);
  const std::string id(model_id);
  ModelData data;
  if (auto entry = catalog_.find(id); entry != catalog_.end()) {
    data.record = entry->second.record;
    data.model_class = entry->second.model_class;
  } else {
    data.model_class = unknown_;
  }
  auto it = models_.find(id);
  if (it == models_.end()) return data;
  const ModelCounts& counts = it->second;
  data.downloads_all_time = counts.all_time;
  data.downloads_in_range = InRange(counts, range);
  data.rank_all_time = RankOf(id, data.downloads_all_time, DayRange{});
  data.rank_in_range =
      range.all_time() ? data.rank_all_time : RankOf(id, data.downloads_in_range, range);
  for (const auto& [day, downloads] : counts.days) {
    if (range.Contains(day)) data.days.push_back({day, downloads});
  }
  for (const auto& [key, downloads] : counts.revisions) {
    if (range.Contains(key.first)) data.revisions.push_back({key.first, key.second, downloads});
  }
  return data;
}

absl::Status MemoryStore::ForEachCatalogRecord(
    const std::function<absl::Status(const CatalogRecord&)>& visit) {
  std::vector<CatalogRecord> records;
  {
    std::shared_lock lock(mutex_);
    for (const auto& [model_id, entry] : catalog_) records.push_back(entry.record);
  }
  // Visited without the lock: `visit` may call back into the store.
  for (const CatalogRecord& record : records) {
    if (absl::Status status = visit(record); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> MemoryStore::ReadSetting(absl::string_view name) {
  std::shared_lock lock(mutex_);
  auto it = settings_.find(name);
  return it == settings_.end() ? std::string() : it->second;
}

absl::Status MemoryStore::WriteSetting(absl::string_view name, absl::string_view value) {
  std::unique_lock lock(mutex_);
  settings_[name] = std::string(value);
  return absl::OkStatus();
}

}  // namespace hubstats
