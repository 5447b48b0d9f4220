#include "store/store_test_util.h"

#include "absl/container/flat_hash_map.h"
#include "core/model_id.h"
#include "core/period.h"
#include "gtest/gtest.h"

namespace hubstats::store_testing {

std::string RandomModelId(std::mt19937_64& random, int authors, int models) {
  const uint64_t author = random() % static_cast<uint64_t>(authors);
  const uint64_t model = random() % static_cast<uint64_t>(models);
  return "org" + std::to_string(author) + "/m" + std::to_string(model);
}

absl::StatusOr<std::vector<WindowShard>> WindowOf(Store& store,
                                                  const std::vector<TestEvent>& events,
                                                  const BatchIdentity* identity) {
  const uint32_t shards = store.shard_count();
  std::vector<ShardDeltaBuilder> builders(shards);
  std::vector<ValidEvent> valid;
  valid.reserve(events.size());
  for (const TestEvent& event : events) {
    absl::StatusOr<Day> day = Day::Parse(event.day);
    if (!day.ok()) return day.status();
    valid.push_back({event.model, AuthorOf(event.model), *day, event.count, event.revision,
                     event.all_time_only});
  }
  for (const ValidEvent& event : valid) builders[ShardOf(event.author, shards)].Add(event);
  std::vector<WindowShard> window;
  for (uint32_t shard = 0; shard < shards; ++shard) {
    if (builders[shard].empty()) continue;
    WindowShard& entry = window.emplace_back();
    entry.delta = builders[shard].Build(shard);
    std::vector<std::string> ids;
    for (const ModelDelta& model : entry.delta.models) ids.push_back(model.model_id);
    absl::StatusOr<std::vector<uint32_t>> indexes = store.AssignIndexes(shard, ids);
    if (!indexes.ok()) return indexes.status();
    for (size_t m = 0; m < ids.size(); ++m) entry.delta.models[m].index = (*indexes)[m];
    if (identity != nullptr) {
      entry.contributions.push_back(
          {identity->producer_id, identity->sequence, identity->from_client});
    }
  }
  return window;
}

absl::StatusOr<ApplyResult> Apply(Store& store, absl::Span<const WindowShard> window) {
  absl::StatusOr<std::vector<WindowShardResult>> results = store.ApplyWindow(window);
  if (!results.ok()) return results.status();
  ApplyResult result;
  for (WindowShardResult& shard : *results) {
    if (!shard.conflicts.empty()) ++result.shards_skipped;
    for (std::string& author : shard.overflowing_authors) {
      result.overflowing_authors.push_back(std::move(author));
    }
  }
  return result;
}

absl::StatusOr<ApplyResult> ApplyEvents(Store& store, const std::vector<TestEvent>& events,
                                        const BatchIdentity* identity) {
  absl::StatusOr<std::vector<WindowShard>> window = WindowOf(store, events, identity);
  if (!window.ok()) return window.status();
  return Apply(store, *window);
}

absl::StatusOr<ProducerVerdict> CheckProducer(Store& store, const BatchIdentity& identity) {
  absl::StatusOr<std::vector<ProducerVerdict>> verdicts = store.CheckProducers({&identity, 1});
  if (!verdicts.ok()) return verdicts.status();
  return verdicts->front();
}

absl::Status CommitProducer(Store& store, const BatchIdentity& identity) {
  return store.CommitProducers({&identity, 1});
}

absl::StatusOr<Facts> LoadFacts(Store& store) {
  Facts facts;
  for (uint32_t shard = 0; shard < store.shard_count(); ++shard) {
    absl::StatusOr<ShardSnapshot> snapshot = store.LoadShard(shard);
    if (!snapshot.ok()) return snapshot.status();
    facts.versions.push_back(snapshot->version);
    absl::flat_hash_map<uint32_t, std::string> id_of;
    for (const ShardSnapshot::Model& model : snapshot->models) {
      ModelFacts& entry = facts.models[model.model_id];
      entry = {shard, model.index, model.record, model.all_time, {}, {}};
      id_of[model.index] = model.model_id;
    }
    for (const ShardSnapshot::DayCounts& day : snapshot->days) {
      for (const auto& [index, downloads] : day.downloads) {
        auto id = id_of.find(index);
        if (id == id_of.end()) return absl::DataLossError("day counts name an unknown index");
        facts.models[id->second].days[day.day] += downloads;
      }
    }
    for (const ShardSnapshot::MonthCounts& month : snapshot->months) {
      facts.folded.emplace(shard, month.month);
      for (const auto& [index, downloads] : month.downloads) {
        auto id = id_of.find(index);
        if (id == id_of.end()) return absl::DataLossError("month counts name an unknown index");
        facts.models[id->second].months[month.month] += downloads;
      }
    }
  }
  return facts;
}

bool ApplyRecord(Facts& facts, uint32_t shard, const ChangeRecord& record) {
  for (const ModelIndexed& model : record.indexed) {
    ModelFacts& entry = facts.models[model.model_id];
    entry.shard = shard;
    entry.index = model.index;
  }
  auto find = [&](uint32_t index) -> ModelFacts* {
    for (auto& [id, model] : facts.models) {
      if (model.shard == shard && model.index == index) return &model;
    }
    ADD_FAILURE() << "change record of shard " << shard << " names unknown index " << index;
    return nullptr;
  };
  for (const RecordWritten& written : record.records) {
    if (ModelFacts* model = find(written.index)) {
      model->record = written.record;
    } else {
      return false;
    }
  }
  for (const DownloadsAdded& added : record.downloads) {
    ModelFacts* model = find(added.index);
    if (model == nullptr) return false;
    model->all_time += added.downloads;
    model->days[added.day] += added.downloads;
  }
  for (const AllTimeAdded& added : record.all_time_only) {
    ModelFacts* model = find(added.index);
    if (model == nullptr) return false;
    model->all_time += added.downloads;
  }
  for (Day month : record.folded_months) {
    facts.folded.emplace(shard, month);
    const Day end = PeriodEnd(month, Granularity::kMonth);
    for (auto& [id, model] : facts.models) {
      if (model.shard != shard) continue;
      for (auto it = model.days.lower_bound(month); it != model.days.end() && it->first <= end;) {
        model.months[month] += it->second;
        it = model.days.erase(it);
      }
    }
  }
  return true;
}

}  // namespace hubstats::store_testing
