#include "app/commit_plan.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/delta.h"
#include "core/field_error.h"

namespace hubstats {
namespace {

// The outcome of a batch whose valid events were all counted except those of `overflowing`
// authors.
IngestOutcome OutcomeOf(const PreparedBatch& batch,
                        const absl::flat_hash_set<std::string>& overflowing, bool duplicate) {
  IngestOutcome outcome;
  outcome.duplicate = duplicate;
  outcome.rejections = batch.rejections;
  for (const auto& [index, event] : batch.valid) {
    if (!overflowing.empty() && overflowing.contains(event.author)) {
      outcome.rejections.push_back(
          {index, "count",
           absl::StrCat("would take the all-time downloads of author '", event.author, "' past ",
                        kMaxCounterValue, ", the largest count kept exactly")});
      continue;
    }
    ++outcome.accepted;
    outcome.accepted_downloads += event.count;
    if (event.all_time_only) ++outcome.accepted_all_time_only;
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

CommitPlan::CommitPlan(absl::Span<PreparedBatch* const> batches, uint32_t shard_count)
    : batches_(batches),
      shard_count_(shard_count),
      decided_(batches.size()),
      copy_of_(batches.size(), -1),
      members_(shard_count),
      overflowing_(batches.size()),
      versions_(batches.size()) {
  // The same client batch twice in one window (re-sent on a new stream before the first was
  // answered) is decided once; the copy follows the first.
  absl::flat_hash_map<std::pair<absl::string_view, uint64_t>, int> first_of;
  for (size_t b = 0; b < batches.size(); ++b) {
    const std::optional<BatchIdentity>& identity = batches[b]->identity;
    if (!identity || !identity->from_client) continue;
    auto [it, inserted] =
        first_of.try_emplace({identity->producer_id, identity->sequence}, static_cast<int>(b));
    if (!inserted) {
      copy_of_[b] = it->second;
      continue;
    }
    to_check_.push_back(*identity);
    checked_.push_back(b);
  }
  if (to_check_.empty()) SetVerdicts({});
}

void CommitPlan::SetVerdicts(absl::Span<const ProducerVerdict> verdicts) {
  for (size_t i = 0; i < verdicts.size() && i < checked_.size(); ++i) {
    const size_t b = checked_[i];
    if (verdicts[i].check == ProducerCheck::kDuplicate) {
      decided_[b] = OutcomeOf(*batches_[b], {}, /*duplicate=*/true);
      has_duplicates_ = true;
    } else if (verdicts[i].check != ProducerCheck::kNew) {
      decided_[b] = ProducerRefusal(to_check_[i], verdicts[i]);
    }
  }
  to_apply_.clear();
  for (size_t b = 0; b < batches_.size(); ++b) {
    if (!decided_[b] && copy_of_[b] < 0) to_apply_.push_back(b);
  }
}

bool CommitPlan::Counted(size_t batch, const ValidEvent& event) const {
  const std::optional<absl::flat_hash_set<std::string>>& over = batches_[batch]->over_limit;
  return !over || !over->contains(event.author);
}

std::vector<WindowShard> CommitPlan::BuildShards() {
  std::vector<ShardDeltaBuilder> builders(shard_count_);
  if (!started_) {
    started_ = true;
    size_t events = 0;
    for (size_t b : to_apply_) events += batches_[b]->merged.size();
    for (ShardDeltaBuilder& builder : builders) builder.Reserve(events / shard_count_ + 16);
    // The first round: one pass over every event, each to its shard.
    for (size_t b : to_apply_) {
      if (const auto& over = batches_[b]->over_limit) overflowing_[b] = *over;
      for (const ValidEvent& event : batches_[b]->merged) {
        if (!Counted(b, event)) continue;
        const uint32_t shard = ShardOf(event.author, shard_count_);
        std::vector<size_t>& members = members_[shard];
        if (members.empty() || members.back() != b) members.push_back(b);
        builders[shard].Add(event);
      }
    }
    for (uint32_t shard = 0; shard < shard_count_; ++shard) {
      if (!members_[shard].empty()) pending_.push_back(shard);
    }
  } else {
    // After conflicts: the shard's merge again, from its remaining batches only.
    for (uint32_t shard : pending_) {
      for (size_t b : members_[shard]) {
        for (const ValidEvent& event : batches_[b]->merged) {
          if (Counted(b, event) && ShardOf(event.author, shard_count_) == shard) {
            builders[shard].Add(event);
          }
        }
      }
    }
  }
  std::vector<WindowShard> windows;
  windows.reserve(pending_.size());
  for (uint32_t shard : pending_) {
    WindowShard& window = windows.emplace_back();
    window.delta = builders[shard].Build(shard);
    for (size_t b : members_[shard]) {
      if (const auto& identity = batches_[b]->identity) {
        window.contributions.push_back(
            {identity->producer_id, identity->sequence, identity->from_client});
      }
    }
  }
  built_ = pending_;
  return windows;
}

void CommitPlan::Applied(absl::Span<const WindowShardResult> results) {
  std::vector<uint32_t> again;
  for (size_t i = 0; i < built_.size() && i < results.size(); ++i) {
    const uint32_t shard = built_[i];
    const WindowShardResult& result = results[i];
    const VersionToken version{{{shard, result.version}}};
    if (result.conflicts.empty()) {
      for (size_t b : members_[shard]) {
        overflowing_[b].insert(result.overflowing_authors.begin(),
                               result.overflowing_authors.end());
        versions_[b].Merge(version);
      }
      continue;
    }
    std::erase_if(members_[shard], [&](size_t b) {
      const std::optional<BatchIdentity>& identity = batches_[b]->identity;
      const bool conflicting =
          identity && std::any_of(result.conflicts.begin(), result.conflicts.end(),
                                  [&](const Contribution& conflict) {
                                    return conflict.producer_id == identity->producer_id &&
                                           conflict.sequence == identity->sequence;
                                  });
      // Applied here by an earlier attempt: the shard's version now holds it.
      if (conflicting) versions_[b].Merge(version);
      return conflicting;
    });
    if (!members_[shard].empty()) again.push_back(shard);
  }
  pending_ = std::move(again);
  built_.clear();
}

std::vector<BatchIdentity> CommitPlan::Committed() const {
  std::vector<BatchIdentity> committed;
  for (size_t b : to_apply_) {
    const auto& identity = batches_[b]->identity;
    if (identity && identity->from_client) committed.push_back(*identity);
  }
  return committed;
}

std::vector<absl::StatusOr<IngestOutcome>> CommitPlan::Outcomes(
    const absl::Status& error, const VersionToken& duplicates_version) {
  std::vector<absl::StatusOr<IngestOutcome>> outcomes;
  outcomes.reserve(batches_.size());
  for (size_t b = 0; b < batches_.size(); ++b) {
    if (decided_[b]) {
      if (decided_[b]->ok() && (*decided_[b])->duplicate) {
        (*decided_[b])->version = duplicates_version;
      }
      outcomes.push_back(std::move(*decided_[b]));
    } else if (copy_of_[b] >= 0) {
      outcomes.emplace_back(absl::UnknownError("pending"));  // Set below, from the original.
    } else if (!error.ok()) {
      outcomes.emplace_back(error);
    } else {
      IngestOutcome outcome = OutcomeOf(*batches_[b], overflowing_[b], /*duplicate=*/false);
      outcome.version = versions_[b];
      outcomes.push_back(std::move(outcome));
    }
  }
  for (size_t b = 0; b < batches_.size(); ++b) {
    if (copy_of_[b] < 0) continue;
    const absl::StatusOr<IngestOutcome>& original = outcomes[copy_of_[b]];
    if (!original.ok()) {
      outcomes[b] = original.status();
    } else if (batches_[b]->identity->digest != batches_[copy_of_[b]]->identity->digest) {
      outcomes[b] = ProducerRefusal(*batches_[b]->identity, {ProducerCheck::kContentMismatch, 0});
    } else {
      IngestOutcome copy = OutcomeOf(*batches_[b], {}, /*duplicate=*/true);
      copy.version = original->version;
      outcomes[b] = std::move(copy);
    }
  }
  return outcomes;
}

}  // namespace hubstats
