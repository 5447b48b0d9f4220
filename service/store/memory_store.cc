#include "store/memory_store.h"

#include <algorithm>
#include <mutex>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/event.h"
#include "core/model_id.h"
#include "core/period.h"

namespace hubstats {

MemoryStore::MemoryStore(MemoryStoreOptions options)
    : options_(options), shards_(options.shard_count) {}

uint32_t MemoryStore::IndexOf(Shard& shard, const std::string& model_id, ChangeRecord& record) {
  auto [it, inserted] =
      shard.index_of.try_emplace(model_id, static_cast<uint32_t>(shard.models.size()));
  if (inserted) {
    shard.models.push_back({.model_id = model_id});
    record.indexed.push_back({it->second, model_id});
  }
  return it->second;
}

Version MemoryStore::Log(Shard& shard, ChangeRecord record) {
  if (!record.empty()) {
    shard.log.emplace_back(Version{0, ++shard.version}, std::move(record));
    while (shard.log.size() > options_.log_records) shard.log.pop_front();
  }
  return Version{0, shard.version};
}

absl::StatusOr<std::vector<uint32_t>> MemoryStore::AssignIndexes(
    uint32_t shard_number, absl::Span<const std::string> model_ids) {
  std::unique_lock lock(mutex_);
  Shard& shard = shards_.at(shard_number);
  ChangeRecord record;
  std::vector<uint32_t> indexes;
  indexes.reserve(model_ids.size());
  for (const std::string& model_id : model_ids) {
    indexes.push_back(IndexOf(shard, model_id, record));
  }
  Log(shard, std::move(record));
  return indexes;
}

absl::StatusOr<std::vector<WindowShardResult>> MemoryStore::ApplyWindow(
    absl::Span<const WindowShard> windows) {
  std::unique_lock lock(mutex_);
  std::vector<WindowShardResult> results(windows.size());
  for (size_t w = 0; w < windows.size(); ++w) {
    const ShardDelta& delta = windows[w].delta;
    Shard& shard = shards_.at(delta.shard);
    WindowShardResult& result = results[w];
    // Like RedisStore: check every mark and every author of the shard first, then write.
    for (const Contribution& contribution : windows[w].contributions) {
      auto mark = shard.marks.find(contribution.producer_id);
      if (mark != shard.marks.end() && mark->second >= contribution.sequence) {
        result.conflicts.push_back(contribution);
      }
    }
    if (!result.conflicts.empty()) {
      result.version = Version{0, shard.version};
      continue;
    }
    for (const Contribution& contribution : windows[w].contributions) {
      uint64_t& mark = shard.marks[contribution.producer_id];
      mark = std::max(mark, contribution.sequence);
    }
    absl::flat_hash_map<std::string, int64_t> added;
    for (const ModelDelta& model : delta.models) added[model.author] += model.total;
    absl::flat_hash_set<std::string> overflowing;
    for (const auto& [author, downloads] : added) {
      auto it = shard.author_totals.find(author);
      const int64_t current = it == shard.author_totals.end() ? 0 : it->second;
      if (downloads > kMaxCounterValue - current) {
        overflowing.insert(author);
        result.overflowing_authors.push_back(author);
      }
    }
    ChangeRecord record;
    for (const ModelDelta& model : delta.models) {
      if (overflowing.contains(model.author)) continue;
      Model& counts = shard.models.at(model.index);
      counts.all_time += model.total;
      shard.author_totals[model.author] += model.total;
      if (model.all_time_only != 0) {
        record.all_time_only.push_back({model.index, model.all_time_only});
      }
      for (const DayDelta& day : model.days) {
        counts.days[day.day] += day.count;
        record.downloads.push_back({model.index, day.day, day.count});
        for (const auto& [revision, downloads] : day.revisions) {
          counts.revisions[{day.day, revision}] += downloads;
        }
      }
    }
    result.version = Log(shard, std::move(record));
  }
  return results;
}

absl::StatusOr<std::vector<int64_t>> MemoryStore::ReadAuthorTotals(
    absl::Span<const absl::string_view> authors) {
  std::shared_lock lock(mutex_);
  std::vector<int64_t> totals;
  totals.reserve(authors.size());
  for (absl::string_view author : authors) {
    const Shard& shard = shards_[ShardOf(author, options_.shard_count)];
    auto it = shard.author_totals.find(author);
    totals.push_back(it == shard.author_totals.end() ? 0 : it->second);
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

absl::StatusOr<UpsertResult> MemoryStore::UpsertModels(absl::Span<const CatalogRecord> records) {
  std::unique_lock lock(mutex_);
  UpsertResult result;
  std::vector<ChangeRecord> changes(shards_.size());
  for (const CatalogRecord& record : records) {
    const uint32_t shard_number = ShardOf(AuthorOf(record.model_id), options_.shard_count);
    Shard& shard = shards_[shard_number];
    ChangeRecord& change = changes[shard_number];
    const uint32_t index = IndexOf(shard, record.model_id, change);
    Model& model = shard.models[index];
    result.previous.push_back(model.record);
    model.record = record;
    change.records.push_back({index, record});
  }
  for (uint32_t shard = 0; shard < shards_.size(); ++shard) {
    if (changes[shard].records.empty()) continue;
    result.version.shards.emplace_back(shard, Log(shards_[shard], std::move(changes[shard])));
  }
  return result;
}

absl::StatusOr<ShardSnapshot> MemoryStore::LoadShard(uint32_t shard_number) {
  std::shared_lock lock(mutex_);
  const Shard& shard = shards_.at(shard_number);
  ShardSnapshot snapshot;
  snapshot.version = Version{0, shard.version};
  std::map<Day, std::vector<std::pair<uint32_t, int64_t>>> days;
  for (uint32_t index = 0; index < shard.models.size(); ++index) {
    const Model& model = shard.models[index];
    snapshot.models.push_back({index, model.model_id, model.record, model.all_time});
    for (const auto& [day, downloads] : model.days) days[day].emplace_back(index, downloads);
  }
  for (auto& [day, downloads] : days) snapshot.days.push_back({day, std::move(downloads)});
  std::map<Day, std::vector<std::pair<uint32_t, int64_t>>> months;
  for (Day month : shard.folded) months[month];
  for (uint32_t index = 0; index < shard.models.size(); ++index) {
    for (const auto& [month, downloads] : shard.models[index].months) {
      months[month].emplace_back(index, downloads);
    }
  }
  for (auto& [month, downloads] : months) snapshot.months.push_back({month, std::move(downloads)});
  return snapshot;
}

absl::StatusOr<std::optional<Day>> MemoryStore::FoldMonth(uint32_t shard_number, Day before) {
  if (PeriodStart(before, Granularity::kMonth) != before) {
    return absl::InvalidArgumentError(
        absl::StrCat("fold: ", before.ToString(), " is not the first day of a month"));
  }
  std::unique_lock lock(mutex_);
  Shard& shard = shards_.at(shard_number);
  std::optional<Day> oldest;
  for (const Model& model : shard.models) {
    if (!model.days.empty() && model.days.begin()->first < before &&
        (!oldest || model.days.begin()->first < *oldest)) {
      oldest = model.days.begin()->first;
    }
  }
  if (!oldest) return std::nullopt;
  const Day month = PeriodStart(*oldest, Granularity::kMonth);
  const Day end = PeriodEnd(month, Granularity::kMonth);
  for (Model& model : shard.models) {
    for (auto it = model.days.lower_bound(month); it != model.days.end() && it->first <= end;) {
      model.months[month] += it->second;
      it = model.days.erase(it);
    }
    for (auto it = model.revisions.lower_bound({month, ""});
         it != model.revisions.end() && it->first.first <= end;) {
      model.month_revisions[{month, it->first.second}] += it->second;
      it = model.revisions.erase(it);
    }
  }
  shard.folded.insert(month);
  ChangeRecord record;
  record.folded_months.push_back(month);
  Log(shard, std::move(record));
  return month;
}

absl::StatusOr<std::vector<ShardChanges>> MemoryStore::ReadChanges(
    absl::Span<const std::pair<uint32_t, Version>> after, size_t limit) {
  std::shared_lock lock(mutex_);
  std::vector<ShardChanges> changes(after.size());
  for (size_t i = 0; i < after.size(); ++i) {
    const Shard& shard = shards_.at(after[i].first);
    const uint64_t seen = after[i].second.minor;
    if (after[i].second.major != 0 || seen > shard.version) {
      changes[i].gap = true;  // Not a version of this log.
      continue;
    }
    if (seen == shard.version) continue;
    if (shard.log.empty() || shard.log.front().first.minor > seen + 1) {
      changes[i].gap = true;  // The records after `seen` were dropped.
      continue;
    }
    for (size_t r = seen + 1 - shard.log.front().first.minor;
         r < shard.log.size() && changes[i].records.size() < limit; ++r) {
      changes[i].records.push_back(shard.log[r]);
    }
  }
  return changes;
}

absl::StatusOr<VersionVector> MemoryStore::ReadVersions(absl::Time /*deadline*/) {
  std::shared_lock lock(mutex_);
  VersionVector versions;
  for (const Shard& shard : shards_) versions.push_back(Version{0, shard.version});
  return versions;
}

absl::StatusOr<std::vector<RevisionDownloads>> MemoryStore::ReadRevisions(uint32_t shard,
                                                                          uint32_t index,
                                                                          const DayRange& range,
                                                                          absl::Time /*deadline*/) {
  std::shared_lock lock(mutex_);
  std::vector<RevisionDownloads> revisions;
  const Shard& owner = shards_.at(shard);
  if (index >= owner.models.size()) return revisions;
  const Model& model = owner.models[index];
  for (const auto& [key, downloads] : model.revisions) {
    if (range.Contains(key.first)) revisions.push_back({key.first, key.second, downloads});
  }
  for (const auto& [key, downloads] : model.month_revisions) {
    if (range.Overlaps(key.first, PeriodEnd(key.first, Granularity::kMonth))) {
      revisions.push_back({key.first, key.second, downloads, /*whole_month=*/true});
    }
  }
  // By day, then revision, as the contract says: a month sorts at its first day.
  std::sort(revisions.begin(), revisions.end(), [](const auto& a, const auto& b) {
    return std::tie(a.day, a.whole_month, a.revision) < std::tie(b.day, b.whole_month, b.revision);
  });
  return revisions;
}

absl::Status MemoryStore::Ping() { return absl::OkStatus(); }

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
