// RedisStore's producer records for exactly-once ingestion: each client producer's committed
// batches live on its home shard (ShardOf(producer id)), checked and recorded by scripts that
// declare both of their keys. The per-shard marks are written with the window (redis_apply.cc).
#include <hiredis/hiredis.h>

#include "absl/strings/str_cat.h"
#include "store/redis_replies.h"
#include "store/redis_store.h"

namespace hubstats {

std::vector<RedisStore::ShardCommands> RedisStore::ProducerCalls(
    Script script, absl::Span<const BatchIdentity> identities,
    const std::vector<std::string>& more_args) const {
  std::vector<ShardCommands> calls;
  calls.reserve(identities.size());
  for (const BatchIdentity& identity : identities) {
    const uint32_t home = ShardOf(identity.producer_id, shard_count_);
    const redis_keys::ShardKeys keys = Keys(home);
    std::vector<std::string> args = {absl::StrCat(identity.sequence),
                                     absl::StrCat(identity.digest)};
    args.insert(args.end(), more_args.begin(), more_args.end());
    ShardCommands& call = calls.emplace_back();
    call.shard = home;
    call.commands.push_back(EvalSha(
        script,
        {keys.producer_log(identity.producer_id), keys.producer_floor(identity.producer_id)},
        std::move(args)));
  }
  return calls;
}

absl::StatusOr<std::vector<ProducerVerdict>> RedisStore::CheckProducers(
    absl::Span<const BatchIdentity> identities) {
  std::vector<ShardCommands> calls = ProducerCalls(Script::kProducerCheck, identities, {});
  if (absl::Status status = Pipeline(calls); !status.ok()) return status;
  std::vector<ProducerVerdict> verdicts;
  verdicts.reserve(calls.size());
  for (const ShardCommands& call : calls) {
    absl::StatusOr<std::vector<const redisReply*>> items =
        ReplyArray(call.replies[0].get(), "producer_check", 2);
    if (!items.ok()) return items.status();
    absl::StatusOr<std::optional<absl::string_view>> check =
        ReplyText((*items)[0], "producer_check");
    absl::StatusOr<int64_t> newest = ReplyInteger((*items)[1], "producer_check newest");
    if (!check.ok()) return check.status();
    if (!newest.ok()) return newest.status();
    ProducerVerdict& verdict = verdicts.emplace_back();
    verdict.newest_committed = static_cast<uint64_t>(*newest);
    if (*check == "new") {
      verdict.check = ProducerCheck::kNew;
    } else if (*check == "duplicate") {
      verdict.check = ProducerCheck::kDuplicate;
    } else if (*check == "out_of_order") {
      verdict.check = ProducerCheck::kOutOfOrder;
    } else if (*check == "mismatch") {
      verdict.check = ProducerCheck::kContentMismatch;
    } else {
      return CorruptReply(absl::StrCat("producer_check verdict '", check->value_or(""), "'"));
    }
  }
  return verdicts;
}

absl::Status RedisStore::CommitProducers(absl::Span<const BatchIdentity> identities) {
  // producer_commit.lua is safe to repeat, so the pipeline may send it again.
  std::vector<ShardCommands> calls =
      ProducerCalls(Script::kProducerCommit, identities,
                    {absl::StrCat(kProducerWindow), absl::StrCat(kProducerTtlSeconds)});
  if (absl::Status status = Pipeline(calls, /*wait=*/true); !status.ok()) return status;
  for (const ShardCommands& call : calls) {
    if (absl::Status status = CheckReply(call.replies[0].get(), "producer_commit"); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace hubstats
