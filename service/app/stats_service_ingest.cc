// StatsService's ingest path: validation, the commit window, indexes and the exact limit.
#include <algorithm>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "app/commit_plan.h"
#include "app/stats_service.h"
#include "core/delta.h"
#include "core/field_error.h"

namespace hubstats {

absl::StatusOr<IngestOutcome> StatsService::Ingest(absl::Span<const RawEvent> events,
                                                   absl::Time received,
                                                   std::optional<BatchIdentity> identity) {
  absl::StatusOr<PreparedBatch> prepared = Prepare(events, received, std::move(identity));
  if (!prepared.ok()) return prepared.status();
  PreparedBatch* batch = &*prepared;
  return std::move(CommitWindow({&batch, 1}).front());
}

absl::StatusOr<PreparedBatch> StatsService::Prepare(absl::Span<const RawEvent> events,
                                                    absl::Time received,
                                                    std::optional<BatchIdentity> identity) {
  if (events.size() > static_cast<size_t>(kMaxBatchItems)) {
    return InvalidFieldError(
        "events", absl::StrCat("at most ", kMaxBatchItems, " per request, got ", events.size(),
                               "; split the batch"));
  }
  PreparedBatch batch;
  batch.identity = std::move(identity);
  // Only a client producer's digest is ever compared (its log, a copy in one window); the
  // server's per-stream ids skip the per-event hash.
  if (batch.identity && batch.identity->from_client) {
    batch.identity->digest = BatchDigest(events);
  }
  batch.valid.reserve(events.size());
  absl::flat_hash_map<std::tuple<absl::string_view, int32_t, absl::string_view>, size_t> merged;
  merged.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    absl::StatusOr<ValidEvent> event = ValidateEvent(events[i], received, options_.event_limits);
    if (!event.ok()) {
      batch.rejections.push_back(
          {static_cast<int>(i), FieldOf(event.status()), ReasonOf(event.status())});
      continue;
    }
    batch.valid.emplace_back(static_cast<int>(i), *event);
    // all_time_only follows from the day (one `received` per batch): the day keys it too.
    auto [slot, inserted] = merged.try_emplace(
        std::tuple(event->model_id, event->day.number(), event->revision), batch.merged.size());
    if (inserted) {
      batch.merged.push_back(*event);
    } else {
      batch.merged[slot->second].count += event->count;
    }
  }
  return batch;
}

absl::Status StatsService::JudgeAuthorLimits(absl::Span<PreparedBatch* const> batches,
                                             absl::Span<const size_t> to_apply) {
  // Each batch is judged on its own, in window order, against the authors' all-time totals
  // plus the batches before it that fit: a batch that fits is never refused because a later
  // one in the same window does not. The store's apply refuses, as a last guard, anything that
  // would still pass the limit (another replica adding to the same author meanwhile).
  std::vector<PreparedBatch*> unjudged;
  for (size_t b : to_apply) {
    if (!batches[b]->over_limit) unjudged.push_back(batches[b]);
  }
  std::vector<absl::flat_hash_map<absl::string_view, int64_t>> sums(unjudged.size());
  absl::flat_hash_map<absl::string_view, int64_t> running;
  size_t events = 0;
  for (const PreparedBatch* batch : unjudged) events += batch->merged.size();
  running.reserve(events);
  for (size_t i = 0; i < unjudged.size(); ++i) {
    for (const ValidEvent& event : unjudged[i]->merged) {
      sums[i][event.author] += event.count;
      running.try_emplace(event.author, 0);
    }
  }
  if (!running.empty()) {
    std::vector<absl::string_view> authors;
    authors.reserve(running.size());
    for (const auto& [author, total] : running) authors.push_back(author);
    absl::StatusOr<std::vector<int64_t>> totals = store_.ReadAuthorTotals(authors);
    if (!totals.ok()) return totals.status();
    for (size_t a = 0; a < authors.size(); ++a) running[authors[a]] = (*totals)[a];
  }
  for (size_t i = 0; i < unjudged.size(); ++i) {
    absl::flat_hash_set<std::string>& over = unjudged[i]->over_limit.emplace();
    for (const auto& [author, sum] : sums[i]) {
      int64_t& total = running[author];
      if (sum > kMaxCounterValue - total) {
        over.insert(std::string(author));
      } else {
        total += sum;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status StatsService::Index(std::vector<WindowShard>& windows) {
  for (WindowShard& window : windows) {
    std::vector<std::string> unknown;
    std::vector<ModelDelta*> waiting;
    const std::vector<std::optional<uint32_t>> known = model_.IndexesOf(
        window.delta.models,
        [](const ModelDelta& model) -> absl::string_view { return model.model_id; });
    for (size_t m = 0; m < known.size(); ++m) {
      ModelDelta& model = window.delta.models[m];
      if (known[m]) {
        model.index = *known[m];
      } else {
        unknown.push_back(model.model_id);
        waiting.push_back(&model);
      }
    }
    if (unknown.empty()) continue;
    // Models the read model has not seen yet (new ones, or ones another replica indexed a
    // moment ago): the store assigns or tells their indexes.
    absl::StatusOr<std::vector<uint32_t>> indexes =
        store_.AssignIndexes(window.delta.shard, unknown);
    if (!indexes.ok()) return indexes.status();
    for (size_t i = 0; i < waiting.size(); ++i) waiting[i]->index = (*indexes)[i];
  }
  return absl::OkStatus();
}

std::vector<absl::StatusOr<IngestOutcome>> StatsService::CommitWindow(
    absl::Span<PreparedBatch* const> batches) {
  CommitPlan plan(batches, store_.shard_count());
  auto finish = [&](const absl::Status& error) {
    VersionToken duplicates_version;
    if (error.ok() && plan.has_duplicates()) {
      // A duplicate was committed before, by this or another replica: the store's versions now
      // hold it.
      absl::StatusOr<VersionVector> versions = store_.ReadVersions();
      if (!versions.ok()) return plan.Outcomes(versions.status(), {});
      for (uint32_t shard = 0; shard < versions->size(); ++shard) {
        duplicates_version.shards.emplace_back(shard, (*versions)[shard]);
      }
    }
    return plan.Outcomes(error, duplicates_version);
  };
  if (!plan.ToCheck().empty()) {
    absl::StatusOr<std::vector<ProducerVerdict>> verdicts = store_.CheckProducers(plan.ToCheck());
    if (!verdicts.ok()) return finish(verdicts.status());
    plan.SetVerdicts(*verdicts);
  }
  if (absl::Status judged = JudgeAuthorLimits(batches, plan.ToApply()); !judged.ok()) {
    return finish(judged);
  }
  std::vector<WindowShard> windows = plan.BuildShards();
  const bool changed = !windows.empty();
  while (!windows.empty()) {
    if (absl::Status indexed = Index(windows); !indexed.ok()) return finish(indexed);
    absl::StatusOr<std::vector<WindowShardResult>> applied = store_.ApplyWindow(windows);
    if (!applied.ok()) return finish(applied.status());
    plan.Applied(*applied);
    windows = plan.BuildShards();  // Shards with conflicts, without the conflicting batches.
  }
  if (changed && options_.committed) options_.committed();
  const std::vector<BatchIdentity> committed = plan.Committed();
  if (!committed.empty()) {
    if (absl::Status status = store_.CommitProducers(committed); !status.ok()) {
      return finish(status);
    }
  }
  return finish(absl::OkStatus());
}

}  // namespace hubstats
