#include "app/stats_service.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/delta.h"
#include "core/field_error.h"
#include "core/model_id.h"
#include "core/size_class.h"

namespace hubstats {
namespace {

ItemRejection RejectionOf(int index, const absl::Status& status) {
  return {index, FieldOf(status), ReasonOf(status)};
}

absl::Status CheckBatchSize(size_t size, absl::string_view field) {
  if (size > static_cast<size_t>(kMaxBatchItems)) {
    return InvalidFieldError(field, absl::StrCat("at most ", kMaxBatchItems, " per request, got ",
                                                 size, "; split the batch"));
  }
  return absl::OkStatus();
}

}  // namespace

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
  if (absl::Status size = CheckBatchSize(events.size(), "events"); !size.ok()) return size;
  PreparedBatch batch;
  batch.identity = std::move(identity);
  // Only a client producer's digest is ever compared (its log, a copy in one window); the
  // server's per-stream ids skip the per-event hash.
  if (batch.identity && batch.identity->from_client) {
    batch.identity->digest = BatchDigest(events);
  }
  batch.valid.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    absl::StatusOr<ValidEvent> event = ValidateEvent(events[i], received);
    if (event.ok()) {
      batch.valid.emplace_back(static_cast<int>(i), *event);
    } else {
      batch.rejections.push_back(RejectionOf(static_cast<int>(i), event.status()));
    }
  }
  return batch;
}

namespace {

// The outcome of a batch whose valid events were all counted except those of `overflowing`
// authors.
IngestOutcome OutcomeOf(const PreparedBatch& batch,
                        const absl::flat_hash_set<absl::string_view>& overflowing, bool duplicate) {
  IngestOutcome outcome;
  outcome.duplicate = duplicate;
  outcome.rejections = batch.rejections;
  for (const auto& [index, event] : batch.valid) {
    if (overflowing.contains(event.author)) {
      outcome.rejections.push_back(
          {index, "count",
           absl::StrCat("would take the all-time downloads of author '", event.author, "' past ",
                        kMaxCounterValue, ", the largest count kept exactly")});
      continue;
    }
    ++outcome.accepted;
    outcome.accepted_downloads += event.count;
  }
  std::sort(outcome.rejections.begin(), outcome.rejections.end(),
            [](const ItemRejection& a, const ItemRejection& b) { return a.index < b.index; });
  outcome.rejected = static_cast<int64_t>(outcome.rejections.size());
  return outcome;
}

absl::Status ProducerRefusal(const BatchIdentity& identity, const ProducerVerdict& verdict) {
  if (verdict.check == ProducerCheck::kOutOfOrder) {
    return FieldError(
        absl::StatusCode::kFailedPrecondition, "sequence",
        absl::StrCat("producer '", identity.producer_id, "' sent sequence ", identity.sequence,
                     " after committing ", verdict.newest_committed, ", and ", identity.sequence,
                     " was never committed: a producer must send its batches in "
                     "increasing order and re-send unacknowledged ones in order"));
  }
  return FieldError(absl::StatusCode::kFailedPrecondition, "sequence",
                    absl::StrCat("producer '", identity.producer_id,
                                 "' already committed sequence ", identity.sequence,
                                 " with other events; re-sent batches must be identical (same "
                                 "input, same batch size)"));
}

}  // namespace

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
  for (size_t i = 0; i < unjudged.size(); ++i) {
    for (const auto& [index, event] : unjudged[i]->valid) {
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

std::vector<absl::StatusOr<IngestOutcome>> StatsService::CommitWindow(
    absl::Span<PreparedBatch* const> batches) {
  const size_t count = batches.size();
  std::vector<std::optional<absl::StatusOr<IngestOutcome>>> results(count);
  auto finish = [&](const absl::Status& error) {
    std::vector<absl::StatusOr<IngestOutcome>> out;
    out.reserve(count);
    for (auto& result : results) out.push_back(result ? std::move(*result) : error);
    return out;
  };

  // The same client batch twice in one window (re-sent on a new stream before the first was
  // answered) is committed once; the copy is answered as a duplicate of it.
  std::vector<int> copy_of(count, -1);
  absl::flat_hash_map<std::pair<absl::string_view, uint64_t>, int> first_of;
  std::vector<BatchIdentity> to_check;
  std::vector<size_t> checked;
  for (size_t b = 0; b < count; ++b) {
    const std::optional<BatchIdentity>& identity = batches[b]->identity;
    if (!identity || !identity->from_client) continue;
    auto [it, inserted] =
        first_of.try_emplace({identity->producer_id, identity->sequence}, static_cast<int>(b));
    if (!inserted) {
      copy_of[b] = it->second;
      continue;
    }
    to_check.push_back(*identity);
    checked.push_back(b);
  }
  if (!to_check.empty()) {
    absl::StatusOr<std::vector<ProducerVerdict>> verdicts = store_.CheckProducers(to_check);
    if (!verdicts.ok()) return finish(verdicts.status());
    for (size_t i = 0; i < checked.size(); ++i) {
      const ProducerVerdict& verdict = (*verdicts)[i];
      if (verdict.check == ProducerCheck::kDuplicate) {
        results[checked[i]] = OutcomeOf(*batches[checked[i]], {}, /*duplicate=*/true);
      } else if (verdict.check != ProducerCheck::kNew) {
        results[checked[i]] = ProducerRefusal(to_check[i], verdict);
      }
    }
  }

  // Merge the events of the batches to apply, per shard and model (core's ShardDeltaBuilder),
  // and note which batches each shard holds (its contributions).
  const uint32_t shards = store_.shard_count();
  std::vector<size_t> to_apply;
  for (size_t b = 0; b < count; ++b) {
    if (!results[b] && copy_of[b] < 0) to_apply.push_back(b);
  }
  // Authors past the exact limit, per batch: judged before anything is built.
  if (absl::Status judged = JudgeAuthorLimits(batches, to_apply); !judged.ok()) {
    return finish(judged);
  }
  auto counted = [&](size_t b, const ValidEvent& event) {
    return !batches[b]->over_limit->contains(event.author);
  };
  // Authors the store refused (the last guard), per batch.
  std::vector<absl::flat_hash_set<std::string>> overflowing_of_batch(count);
  for (size_t b : to_apply) overflowing_of_batch[b] = *batches[b]->over_limit;
  std::vector<std::vector<size_t>> batches_of_shard(shards);
  auto to_window = [&](uint32_t shard, const ShardDeltaBuilder& builder) {
    WindowShard window;
    window.delta = builder.Build(shard);
    for (size_t b : batches_of_shard[shard]) {
      if (const auto& identity = batches[b]->identity) {
        window.contributions.push_back(
            {identity->producer_id, identity->sequence, identity->from_client});
      }
    }
    return window;
  };
  // One pass over every event: each goes to its shard's builder.
  std::vector<ShardDeltaBuilder> builder_of_shard(shards);
  for (size_t b : to_apply) {
    for (const auto& [index, event] : batches[b]->valid) {
      if (!counted(b, event)) continue;
      const uint32_t shard = ShardOf(event.author, shards);
      std::vector<size_t>& members = batches_of_shard[shard];
      if (members.empty() || members.back() != b) members.push_back(b);
      builder_of_shard[shard].Add(event);
    }
  }
  // After a conflict: the shard's merge again, from its remaining batches only.
  auto rebuild = [&](uint32_t shard) {
    ShardDeltaBuilder builder;
    for (size_t b : batches_of_shard[shard]) {
      for (const auto& [index, event] : batches[b]->valid) {
        if (counted(b, event) && ShardOf(event.author, shards) == shard) builder.Add(event);
      }
    }
    return to_window(shard, builder);
  };

  // Apply; a shard that reports conflicts (batches an earlier attempt applied there) is built
  // again without them and applied again, until it goes in.
  std::vector<uint32_t> pending_shards;
  for (uint32_t shard = 0; shard < shards; ++shard) {
    if (!batches_of_shard[shard].empty()) pending_shards.push_back(shard);
  }
  bool first_round = true;
  while (!pending_shards.empty()) {
    std::vector<WindowShard> window;
    window.reserve(pending_shards.size());
    for (uint32_t shard : pending_shards) {
      window.push_back(first_round ? to_window(shard, builder_of_shard[shard]) : rebuild(shard));
    }
    first_round = false;
    absl::StatusOr<std::vector<WindowShardResult>> applied = store_.ApplyWindow(window);
    if (!applied.ok()) return finish(applied.status());
    std::vector<uint32_t> again;
    for (size_t i = 0; i < pending_shards.size(); ++i) {
      const uint32_t shard = pending_shards[i];
      WindowShardResult& result = (*applied)[i];
      if (result.conflicts.empty()) {
        for (size_t b : batches_of_shard[shard]) {
          overflowing_of_batch[b].insert(result.overflowing_authors.begin(),
                                         result.overflowing_authors.end());
        }
        continue;
      }
      std::erase_if(batches_of_shard[shard], [&](size_t b) {
        const std::optional<BatchIdentity>& identity = batches[b]->identity;
        return identity && std::any_of(result.conflicts.begin(), result.conflicts.end(),
                                       [&](const Contribution& conflict) {
                                         return conflict.producer_id == identity->producer_id &&
                                                conflict.sequence == identity->sequence;
                                       });
      });
      if (!batches_of_shard[shard].empty()) again.push_back(shard);
    }
    pending_shards = std::move(again);
  }

  std::vector<BatchIdentity> committed;
  for (size_t b : to_apply) {
    const auto& identity = batches[b]->identity;
    if (identity && identity->from_client) committed.push_back(*identity);
  }
  if (!committed.empty()) {
    if (absl::Status status = store_.CommitProducers(committed); !status.ok())
      return finish(status);
  }
  for (size_t b : to_apply) {
    absl::flat_hash_set<absl::string_view> overflowing(overflowing_of_batch[b].begin(),
                                                       overflowing_of_batch[b].end());
    results[b] = OutcomeOf(*batches[b], overflowing, /*duplicate=*/false);
  }
  for (size_t b = 0; b < count; ++b) {
    if (copy_of[b] < 0) continue;
    const absl::StatusOr<IngestOutcome>& original = *results[copy_of[b]];
    if (!original.ok()) {
      results[b] = original.status();
    } else if (batches[b]->identity->digest != batches[copy_of[b]]->identity->digest) {
      results[b] = ProducerRefusal(*batches[b]->identity, {ProducerCheck::kContentMismatch, 0});
    } else {
      results[b] = OutcomeOf(*batches[b], {}, /*duplicate=*/true);
    }
  }
  return finish(absl::OkStatus());
}

absl::StatusOr<UpsertOutcome> StatsService::UpsertModels(absl::Span<const CatalogRecord> records) {
  if (absl::Status size = CheckBatchSize(records.size(), "models"); !size.ok()) return size;
  UpsertOutcome outcome;
  // Later records replace earlier ones for the same model, as separate upserts would.
  absl::flat_hash_map<absl::string_view, size_t> last_index;
  for (size_t i = 0; i < records.size(); ++i) {
    absl::Status valid = ValidateRecord(records[i]);
    if (!valid.ok()) {
      outcome.rejections.push_back(RejectionOf(static_cast<int>(i), valid));
      continue;
    }
    ++outcome.accepted;
    last_index[records[i].model_id] = i;
  }
  std::vector<size_t> order;
  for (const auto& [model_id, index] : last_index) order.push_back(index);
  std::sort(order.begin(), order.end());
  std::vector<CatalogEntry> entries;
  entries.reserve(order.size());
  for (size_t index : order) entries.push_back({records[index], Classify(records[index], tasks_)});
  absl::StatusOr<UpsertResult> result = store_.UpsertModels(entries);
  if (!result.ok()) return result.status();
  outcome.reclassified = result->reclassified;
  outcome.rejected = static_cast<int64_t>(outcome.rejections.size());
  return outcome;
}

absl::StatusOr<int64_t> StatsService::ApplyTaskTable() {
  constexpr absl::string_view kSetting = "task_table";
  const std::string fingerprint = tasks_.Fingerprint();
  absl::StatusOr<std::string> recorded = store_.ReadSetting(kSetting);
  if (!recorded.ok()) return recorded.status();
  if (*recorded == fingerprint) return 0;
  int64_t reclassified = 0;
  std::vector<CatalogEntry> batch;
  auto flush = [&]() -> absl::Status {
    absl::StatusOr<UpsertResult> result = store_.UpsertModels(batch);
    if (!result.ok()) return result.status();
    reclassified += result->reclassified;
    batch.clear();
    return absl::OkStatus();
  };
  absl::Status scanned = store_.ForEachCatalogRecord([&](const CatalogRecord& record) {
    batch.push_back({record, Classify(record, tasks_)});
    return batch.size() < 1000 ? absl::OkStatus() : flush();
  });
  if (!scanned.ok()) return scanned;
  if (absl::Status flushed = flush(); !flushed.ok()) return flushed;
  if (absl::Status written = store_.WriteSetting(kSetting, fingerprint); !written.ok()) {
    return written;
  }
  return reclassified;
}

absl::StatusOr<ModalityShare> StatsService::GetModalityShare(const DayRange& range) {
  if (absl::Status valid = ValidateDayRange(range); !valid.ok()) return valid;
  absl::StatusOr<AggregateCounts> counts = store_.ReadAggregates(range);
  if (!counts.ok()) return counts.status();
  return ComputeModalityShare(*counts);
}

absl::StatusOr<SizeDistribution> StatsService::GetSizeDistribution(
    const DayRange& range, absl::Span<const int64_t> boundaries, std::optional<Modality> modality) {
  if (absl::Status valid = ValidateDayRange(range); !valid.ok()) return valid;
  if (boundaries.empty()) boundaries = kDefaultBoundaries;
  if (absl::Status valid = ValidateBoundaries(boundaries); !valid.ok()) return valid;
  absl::StatusOr<AggregateCounts> counts = store_.ReadAggregates(range);
  if (!counts.ok()) return counts.status();
  return ComputeSizeDistribution(*counts, boundaries, modality);
}

absl::StatusOr<TopN> StatsService::GetTopN(const DayRange& range, RankBy by,
                                           std::optional<Modality> modality, int n) {
  if (absl::Status valid = ValidateDayRange(range); !valid.ok()) return valid;
  if (n < 1 || n > kMaxTopN) {
    return InvalidFieldError("n", absl::StrCat("must be between 1 and ", kMaxTopN, ", got ", n));
  }
  absl::StatusOr<TopCandidates> top = store_.ReadTop(range, by, modality, n);
  if (!top.ok()) return top.status();
  return ComputeTopN(std::move(top->entries), static_cast<size_t>(n), top->total_downloads);
}

absl::StatusOr<Breakdown> StatsService::GetBreakdown(const DayRange& range, AggregateKind dimension,
                                                     std::optional<Modality> modality) {
  if (absl::Status valid = ValidateDayRange(range); !valid.ok()) return valid;
  if (dimension == AggregateKind::kSize) {
    return InvalidFieldError("dimension", "must be task, architecture or library");
  }
  absl::StatusOr<AggregateCounts> counts = store_.ReadAggregates(range);
  if (!counts.ok()) return counts.status();
  return ComputeBreakdown(*counts, dimension, modality);
}

absl::StatusOr<Population> StatsService::GetTotals(const DayRange& range) {
  if (absl::Status valid = ValidateDayRange(range); !valid.ok()) return valid;
  return store_.ReadPopulation(range);
}

absl::StatusOr<ModelStats> StatsService::GetModelStats(absl::string_view model_id,
                                                       const DayRange& range) {
  if (absl::Status valid = ValidateModelId(model_id); !valid.ok()) return valid;
  if (absl::Status valid = ValidateDayRange(range); !valid.ok()) return valid;
  absl::StatusOr<ModelData> data = store_.ReadModel(model_id, range);
  if (!data.ok()) return data.status();
  if (!data->record && data->downloads_all_time == 0) {
    return absl::NotFoundError(
        absl::StrCat("model '", model_id, "' has no downloads and no catalog record"));
  }
  ModelStats stats;
  stats.model_id = std::string(model_id);
  stats.author = std::string(AuthorOf(model_id));
  stats.record = std::move(data->record);
  stats.model_class = std::move(data->model_class);
  stats.size_class = stats.model_class.size_bucket ? FineBucketLabel(*stats.model_class.size_bucket)
                                                   : std::string("unknown");
  stats.downloads_all_time = data->downloads_all_time;
  stats.downloads_in_range = data->downloads_in_range;
  stats.rank_all_time = data->rank_all_time;
  stats.rank_in_range = data->rank_in_range;
  stats.days = std::move(data->days);
  std::map<std::string, int64_t> by_revision;
  int64_t with_revision = 0;
  for (const RevisionDownloads& revision : data->revisions) {
    by_revision[revision.revision] += revision.downloads;
    with_revision += revision.downloads;
  }
  // Downloads without a revision get a row of their own, so the rows add up to the range's
  // downloads. Revisions are printable ASCII without spaces: the name cannot collide.
  if (stats.downloads_in_range > with_revision) {
    by_revision[std::string(kNoRevision)] = stats.downloads_in_range - with_revision;
  }
  stats.revisions.assign(by_revision.begin(), by_revision.end());
  std::stable_sort(stats.revisions.begin(), stats.revisions.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return stats;
}

}  // namespace hubstats
