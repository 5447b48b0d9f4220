#include "api/stats_service.h"

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
    return InvalidFieldError(field, absl::StrCat("at most ", kMaxBatchItems,
                                                 " per request, got ", size,
                                                 "; split the batch"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<IngestOutcome> StatsService::Ingest(absl::Span<const RawEvent> events,
                                                   absl::Time received,
                                                   std::optional<BatchIdentity> identity) {
  if (absl::Status size = CheckBatchSize(events.size(), "events"); !size.ok()) return size;
  bool duplicate = false;
  if (identity) {
    identity->digest = BatchDigest(events);
    if (identity->from_client) {
      absl::StatusOr<ProducerVerdict> verdict = store_.CheckProducer(*identity);
      if (!verdict.ok()) return verdict.status();
      switch (verdict->check) {
        case ProducerCheck::kNew:
          break;
        case ProducerCheck::kDuplicate:
          duplicate = true;
          break;
        case ProducerCheck::kOutOfOrder:
          return FieldError(
              absl::StatusCode::kFailedPrecondition, "sequence",
              absl::StrCat("producer '", identity->producer_id, "' sent sequence ",
                           identity->sequence, " after committing ", verdict->newest_committed,
                           ", and ", identity->sequence,
                           " was never committed: a producer must send its batches in "
                           "increasing order and re-send unacknowledged ones in order"));
        case ProducerCheck::kContentMismatch:
          return FieldError(
              absl::StatusCode::kFailedPrecondition, "sequence",
              absl::StrCat("producer '", identity->producer_id, "' already committed sequence ",
                           identity->sequence,
                           " with other events; re-sent batches must be identical (same "
                           "input, same batch size)"));
      }
    }
  }

  IngestOutcome outcome;
  outcome.duplicate = duplicate;
  DeltaBuilder builder(store_.shard_count());
  std::vector<std::pair<int, ValidEvent>> valid;
  valid.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    absl::StatusOr<ValidEvent> event = ValidateEvent(events[i], received);
    if (!event.ok()) {
      outcome.rejections.push_back(RejectionOf(static_cast<int>(i), event.status()));
      continue;
    }
    if (!duplicate) builder.Add(*event);
    valid.emplace_back(static_cast<int>(i), *event);
  }
  absl::flat_hash_set<std::string> overflowing;
  if (!duplicate) {
    absl::StatusOr<ApplyResult> applied =
        store_.ApplyEvents(std::move(builder).Finish(), identity ? &*identity : nullptr);
    if (!applied.ok()) return applied.status();
    overflowing.insert(applied->overflowing_authors.begin(), applied->overflowing_authors.end());
    if (identity && identity->from_client) {
      if (absl::Status committed = store_.CommitProducer(*identity); !committed.ok()) {
        return committed;
      }
    }
  }
  for (const auto& [index, event] : valid) {
    if (overflowing.contains(event.author)) {
      outcome.rejections.push_back(
          {index, "count",
           absl::StrCat("would take the all-time downloads of author '", event.author,
                        "' past ", kMaxCounterValue, ", the largest count kept exactly")});
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

absl::StatusOr<Breakdown> StatsService::GetBreakdown(const DayRange& range,
                                                     AggregateKind dimension,
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
  stats.size_class = stats.model_class.size_bucket
                         ? FineBucketLabel(*stats.model_class.size_bucket)
                         : std::string("unknown");
  stats.downloads_all_time = data->downloads_all_time;
  stats.downloads_in_range = data->downloads_in_range;
  stats.rank_all_time = data->rank_all_time;
  stats.rank_in_range = data->rank_in_range;
  stats.days = std::move(data->days);
  std::map<std::string, int64_t> by_revision;
  for (const RevisionDownloads& revision : data->revisions) {
    by_revision[revision.revision] += revision.downloads;
  }
  stats.revisions.assign(by_revision.begin(), by_revision.end());
  std::stable_sort(stats.revisions.begin(), stats.revisions.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return stats;
}

}  // namespace hubstats
