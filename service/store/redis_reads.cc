// RedisStore's reads: shard snapshots, the change log, versions, author totals, and the one
// query read (revisions), which has its own connections and a deadline.
#include <hiredis/hiredis.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/period.h"
#include "store/redis_replies.h"
#include "store/redis_store.h"

namespace hubstats {
namespace {

absl::string_view TextOf(const redisReply* reply) {
  return reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS
             ? absl::string_view(reply->str, reply->len)
             : absl::string_view();
}

// A flat HGETALL reply as (field, value) views.
absl::StatusOr<std::vector<std::pair<absl::string_view, absl::string_view>>> HashPairs(
    const redisReply* reply, absl::string_view what) {
  absl::StatusOr<std::vector<const redisReply*>> items = ReplyArray(reply, what);
  if (!items.ok()) return items.status();
  if (items->size() % 2 != 0) return CorruptReply(absl::StrCat(what, ": odd reply"));
  std::vector<std::pair<absl::string_view, absl::string_view>> pairs;
  pairs.reserve(items->size() / 2);
  for (size_t i = 0; i < items->size(); i += 2) {
    pairs.emplace_back(TextOf((*items)[i]), TextOf((*items)[i + 1]));
  }
  return pairs;
}

absl::StatusOr<std::set<std::string>> DaySet(const redisReply* reply) {
  absl::StatusOr<std::vector<const redisReply*>> items = ReplyArray(reply, "SMEMBERS days");
  if (!items.ok()) return items.status();
  std::set<std::string> days;
  for (const redisReply* item : *items) days.emplace(TextOf(item));
  return days;
}

}  // namespace

absl::StatusOr<ShardSnapshot> RedisStore::LoadShard(uint32_t shard) {
  if (shard >= shard_count_) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard ", shard, " is not below ", shard_count_));
  }
  const redis_keys::ShardKeys keys = Keys(shard);
  for (int attempt = 0; attempt < kTransactionAttempts; ++attempt) {
    // The days and folded months first, then everything in one MULTI/EXEC; if a day or a
    // month appeared (or went) in between, again.
    std::vector<ShardCommands> listed =
        OneShard(shard, {{"SMEMBERS", keys.days()}, {"SMEMBERS", keys.months()}});
    if (absl::Status status = Pipeline(listed); !status.ok()) return status;
    absl::StatusOr<std::set<std::string>> days = DaySet(listed[0].replies[0].get());
    if (!days.ok()) return days.status();
    absl::StatusOr<std::set<std::string>> months = DaySet(listed[0].replies[1].get());
    if (!months.ok()) return months.status();
    std::vector<Day> day_list, month_list;
    std::vector<std::vector<std::string>> commands = {{"MULTI"},
                                                      {"SMEMBERS", keys.days()},
                                                      {"HGETALL", keys.models()},
                                                      {"GET", keys.all_time()},
                                                      {"GET", keys.version()},
                                                      {"SMEMBERS", keys.months()}};
    for (const std::string& text : *days) {
      absl::StatusOr<Day> day = Day::Parse(text);
      if (!day.ok()) return CorruptReply(absl::StrCat("day '", text, "' in ", keys.days()));
      day_list.push_back(*day);
      commands.push_back({"HGETALL", keys.day(*day)});
      commands.push_back({"GET", keys.dense_day(*day)});
    }
    for (const std::string& text : *months) {
      std::optional<Day> month = redis_keys::ParseMonthText(text);
      if (!month) return CorruptReply(absl::StrCat("month '", text, "' in ", keys.months()));
      month_list.push_back(*month);
      commands.push_back({"HGETALL", keys.month(*month)});
    }
    commands.push_back({"EXEC"});
    std::vector<RedisReply> replies;
    absl::Status status = topology_->Run(
        SlotOf(shard), Idempotence::kIdempotent,
        [&](RedisConnection& connection) { return SendAndRead(connection, commands, replies); });
    if (!status.ok()) return status;
    for (size_t r = 0; r + 1 < replies.size(); ++r) {
      if (absl::Status queued = CheckReply(replies[r].get(), "load: queuing"); !queued.ok()) {
        return queued;
      }
    }
    absl::StatusOr<std::vector<const redisReply*>> results =
        ReplyArray(replies.back().get(), "load: EXEC", commands.size() - 2);
    if (!results.ok()) return results.status();
    absl::StatusOr<std::set<std::string>> days_now = DaySet((*results)[0]);
    if (!days_now.ok()) return days_now.status();
    absl::StatusOr<std::set<std::string>> months_now = DaySet((*results)[4]);
    if (!months_now.ok()) return months_now.status();
    if (*days_now != *days || *months_now != *months) continue;

    ShardSnapshot snapshot;
    absl::StatusOr<Version> version = ReplyVersion((*results)[3], "load: version");
    if (!version.ok()) return version.status();
    snapshot.version = *version;
    absl::StatusOr<std::optional<absl::string_view>> all_time =
        ReplyText((*results)[2], "load: all time");
    if (!all_time.ok()) return all_time.status();
    const absl::string_view array = all_time->value_or("");
    absl::StatusOr<std::vector<std::pair<absl::string_view, absl::string_view>>> models =
        HashPairs((*results)[1], "load: models");
    if (!models.ok()) return models.status();
    snapshot.models.resize(models->size());
    std::vector<bool> seen(models->size(), false);
    for (const auto& [id, value] : *models) {
      std::optional<redis_keys::ParsedModelValue> parsed = redis_keys::ParseModelValue(value);
      // Indexes are exactly 0..HLEN-1 (see redis_store.h).
      if (!parsed || parsed->index >= seen.size() || seen[parsed->index]) {
        return CorruptReply(absl::StrCat("models value of '", id, "' in shard ", shard));
      }
      seen[parsed->index] = true;
      ShardSnapshot::Model& model = snapshot.models[parsed->index];
      model.index = parsed->index;
      model.model_id = std::string(id);
      model.all_time = redis_keys::DenseAt(array, parsed->index);
      if (parsed->serialized_record) {
        absl::StatusOr<CatalogRecord> record = ParseRecord(id, *parsed->serialized_record);
        if (!record.ok()) return record.status();
        model.record = *std::move(record);
      }
    }
    for (size_t d = 0; d < day_list.size(); ++d) {
      // A model's downloads on the day: its hash field plus its dense counter.
      std::map<uint32_t, int64_t> downloads;
      absl::StatusOr<std::vector<std::pair<absl::string_view, absl::string_view>>> counts =
          HashPairs((*results)[5 + 2 * d], "load: day");
      if (!counts.ok()) return counts.status();
      for (const auto& [field, value] : *counts) {
        uint32_t index = 0;
        absl::StatusOr<int64_t> count = ParseCount(value, "day downloads");
        if (!absl::SimpleAtoi(field, &index) || index >= seen.size() || !count.ok()) {
          return CorruptReply(absl::StrCat("day ", day_list[d].ToString(), " field '", field, "'"));
        }
        downloads[index] += *count;
      }
      absl::StatusOr<std::optional<absl::string_view>> dense =
          ReplyText((*results)[6 + 2 * d], "load: dense day");
      if (!dense.ok()) return dense.status();
      const absl::string_view array = dense->value_or("");
      for (uint32_t index = 0; index < array.size() / redis_keys::kDenseBytes; ++index) {
        if (const int64_t count = redis_keys::DenseAt(array, index); count != 0) {
          if (index >= seen.size()) {
            return CorruptReply(absl::StrCat("dense day ", day_list[d].ToString(), " index ", index,
                                             " is not a model"));
          }
          downloads[index] += count;
        }
      }
      ShardSnapshot::DayCounts& day = snapshot.days.emplace_back();
      day.day = day_list[d];
      for (const auto& [index, count] : downloads) {
        if (count > 0) day.downloads.emplace_back(index, count);
      }
      if (day.downloads.empty()) snapshot.days.pop_back();
    }
    for (size_t m = 0; m < month_list.size(); ++m) {
      absl::StatusOr<std::vector<std::pair<absl::string_view, absl::string_view>>> counts =
          HashPairs((*results)[5 + 2 * day_list.size() + m], "load: month");
      if (!counts.ok()) return counts.status();
      ShardSnapshot::MonthCounts& month = snapshot.months.emplace_back();
      month.month = month_list[m];
      for (const auto& [field, value] : *counts) {
        uint32_t index = 0;
        absl::StatusOr<int64_t> count = ParseCount(value, "month downloads");
        if (!absl::SimpleAtoi(field, &index) || index >= seen.size() || !count.ok()) {
          return CorruptReply(
              absl::StrCat("month ", redis_keys::MonthText(month_list[m]), " field '", field, "'"));
        }
        if (*count > 0) month.downloads.emplace_back(index, *count);
      }
      std::sort(month.downloads.begin(), month.downloads.end());
    }
    return snapshot;
  }
  return absl::UnavailableError(
      absl::StrCat("redis: shard ", shard, " kept getting new days while being loaded; retry"));
}

absl::StatusOr<std::vector<ShardChanges>> RedisStore::ReadChanges(
    absl::Span<const std::pair<uint32_t, Version>> after, size_t limit) {
  std::vector<ShardCommands> reads;
  reads.reserve(after.size());
  for (const auto& [shard, version] : after) {
    if (shard >= shard_count_) {
      return absl::InvalidArgumentError(
          absl::StrCat("shard ", shard, " is not below ", shard_count_));
    }
    const redis_keys::ShardKeys keys = Keys(shard);
    // The version first: entries after it are at least what it promises.
    reads.push_back({shard,
                     {{"GET", keys.version()},
                      {"XRANGE", keys.log(), absl::StrCat("(", version.ToString()), "+", "COUNT",
                       absl::StrCat(std::max<size_t>(limit, 1))}},
                     {}});
  }
  if (absl::Status status = Pipeline(reads); !status.ok()) return status;
  std::vector<ShardChanges> changes(after.size());
  for (size_t i = 0; i < after.size(); ++i) {
    const Version asked = after[i].second;
    absl::StatusOr<Version> current = ReplyVersion(reads[i].replies[0].get(), "GET version");
    if (!current.ok()) return current.status();
    absl::StatusOr<std::vector<const redisReply*>> entries =
        ReplyArray(reads[i].replies[1].get(), "XRANGE log");
    if (!entries.ok()) return entries.status();
    ShardChanges& shard = changes[i];
    if (entries->empty()) {
      // Nothing after `asked`: fine when it is the newest version; otherwise the log lost it
      // (or never had it: the log went backwards).
      shard.gap = *current != asked;
      continue;
    }
    std::string previous = asked.ToString();
    for (const redisReply* entry : *entries) {
      absl::StatusOr<std::vector<const redisReply*>> parts = ReplyArray(entry, "log entry", 2);
      if (!parts.ok()) return parts.status();
      absl::StatusOr<Version> id = ReplyVersion((*parts)[0], "log entry id");
      if (!id.ok()) return id.status();
      absl::StatusOr<std::vector<std::pair<absl::string_view, absl::string_view>>> fields =
          HashPairs((*parts)[1], "log entry fields");
      if (!fields.ok()) return fields.status();
      std::optional<absl::string_view> chained, encoded;
      for (const auto& [name, value] : *fields) {
        if (name == redis_keys::kLogPrevious) chained = value;
        if (name == redis_keys::kLogRecord) encoded = value;
      }
      if (!chained || !encoded) return CorruptReply("log entry without p or r");
      if (*chained != previous) {
        // The entry after `asked` does not follow it: what came between is gone.
        shard.gap = true;
        shard.records.clear();
        break;
      }
      absl::StatusOr<ChangeRecord> record = DecodeChangeRecord(*encoded);
      if (!record.ok()) return record.status();
      if (shard.records.size() < limit) shard.records.emplace_back(*id, *std::move(record));
      previous = id->ToString();
    }
  }
  return changes;
}

absl::StatusOr<VersionVector> RedisStore::ReadVersions(absl::Time deadline) {
  std::vector<ShardCommands> reads;
  reads.reserve(shard_count_);
  for (uint32_t shard = 0; shard < shard_count_; ++shard) {
    reads.push_back({shard, {{"GET", Keys(shard).version()}}, {}});
  }
  if (absl::Status status = Pipeline(reads, /*wait=*/false, deadline); !status.ok()) {
    return status;
  }
  VersionVector versions;
  versions.reserve(shard_count_);
  for (const ShardCommands& read : reads) {
    absl::StatusOr<Version> version = ReplyVersion(read.replies[0].get(), "GET version");
    if (!version.ok()) return version.status();
    versions.push_back(*version);
  }
  return versions;
}

absl::StatusOr<std::vector<int64_t>> RedisStore::ReadAuthorTotals(
    absl::Span<const absl::string_view> authors) {
  std::map<uint32_t, std::vector<size_t>> by_shard;
  for (size_t i = 0; i < authors.size(); ++i) {
    by_shard[ShardOf(authors[i], shard_count_)].push_back(i);
  }
  std::vector<ShardCommands> reads;
  for (const auto& [shard, members] : by_shard) {
    std::vector<std::string> hmget = {"HMGET", Keys(shard).authors()};
    for (size_t i : members) hmget.emplace_back(authors[i]);
    reads.push_back({shard, {std::move(hmget)}, {}});
  }
  if (absl::Status status = Pipeline(reads); !status.ok()) return status;
  std::vector<int64_t> totals(authors.size(), 0);
  size_t r = 0;
  for (const auto& [shard, members] : by_shard) {
    absl::StatusOr<std::vector<const redisReply*>> values =
        ReplyArray(reads[r++].replies[0].get(), "HMGET authors", members.size());
    if (!values.ok()) return values.status();
    for (size_t k = 0; k < members.size(); ++k) {
      absl::StatusOr<int64_t> total = ReplyInteger((*values)[k], "author total");
      if (!total.ok()) return total.status();
      totals[members[k]] = *total;
    }
  }
  return totals;
}

absl::Status RedisStore::QueryFailure(const absl::Status& status) const {
  if (status.ok() || !IsRetryableStoreError(status)) return status;
  return absl::UnavailableError(absl::StrCat("redis did not answer the query within ",
                                             absl::FormatDuration(query_timeout_), " (",
                                             status.message(), "); retry later"));
}

absl::StatusOr<std::vector<RevisionDownloads>> RedisStore::ReadRevisions(uint32_t shard,
                                                                         uint32_t index,
                                                                         const DayRange& range,
                                                                         absl::Time deadline) {
  if (shard >= shard_count_) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard ", shard, " is not below ", shard_count_));
  }
  const std::string key = Keys(shard).revisions(index);
  RedisReply reply;
  absl::Status status;
  // A pooled connection Redis closed fails at once and is worth one more try on a fresh one; a
  // timeout means Redis is slow or stopped, and trying again would only double the wait.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (absl::Now() >= deadline) {
      status = absl::DeadlineExceededError("the query's deadline passed");
      break;
    }
    status = query_topology_->Run(
        SlotOf(shard), Idempotence::kNotIdempotent,
        [&](RedisConnection& connection) -> absl::Status {
          connection.SetTimeout(deadline - absl::Now());
          absl::StatusOr<RedisReply> read = connection.Command({"HGETALL", key});
          if (!read.ok()) return read.status();
          if (absl::Status routing = RoutingStatus(*read); !routing.ok()) {
            return routing;
          }
          reply = *std::move(read);
          return absl::OkStatus();
        });
    if (!absl::IsUnavailable(status) || RoutingOf(status)) break;
  }
  if (!status.ok()) return QueryFailure(status);
  absl::StatusOr<std::vector<std::pair<absl::string_view, absl::string_view>>> fields =
      HashPairs(reply.get(), "HGETALL revisions");
  if (!fields.ok()) return fields.status();
  std::vector<RevisionDownloads> revisions;
  for (const auto& [field, value] : *fields) {
    std::optional<redis_keys::ParsedRevisionField> parsed = redis_keys::ParseRevisionField(field);
    absl::StatusOr<int64_t> downloads = ParseCount(value, "revision downloads");
    if (!parsed || !downloads.ok())
      return CorruptReply(absl::StrCat("revision field '", field, "'"));
    if (parsed->whole_month
            ? !range.Overlaps(parsed->day, PeriodEnd(parsed->day, Granularity::kMonth))
            : !range.Contains(parsed->day)) {
      continue;
    }
    revisions.push_back(
        {parsed->day, std::string(parsed->revision), *downloads, parsed->whole_month});
  }
  std::sort(revisions.begin(), revisions.end(), [](const auto& a, const auto& b) {
    return std::tie(a.day, a.whole_month, a.revision) < std::tie(b.day, b.whole_month, b.revision);
  });
  return revisions;
}

}  // namespace hubstats
