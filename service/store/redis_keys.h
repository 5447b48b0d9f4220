// The Redis key layout of hubstats, in one place: every key name and every stored value format
// that more than one piece of code must agree on. RedisStore (redis_store.h, which explains the
// layout and what is atomic) and the bench baselines (baselines/) build their keys here; nothing
// else spells a key.
//
// Every key of a logical shard starts with the shard's tag "<prefix>:{<shard>}". The braces make
// "<shard>" a Redis Cluster hash tag: all keys of a shard live in one slot (RedisKeySlot of the
// tag), so one script or one MULTI/EXEC can touch all of them, on one Redis or on a cluster.
//
// Pure functions; thread-safe.
#ifndef HUBSTATS_SERVICE_STORE_REDIS_KEYS_H_
#define HUBSTATS_SERVICE_STORE_REDIS_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/day.h"

namespace hubstats::redis_keys {

// The layout version recorded in Meta's "layout" field. "1" was the layout of sorted-set
// rankings and aggregate hashes (hubstats before the read model); it is refused.
inline constexpr absl::string_view kLayoutVersion = "2";

// "<prefix>:meta" (hash): "layout", "shards", "setting:<name>". Not in any shard.
inline std::string Meta(absl::string_view prefix) { return absl::StrCat(prefix, ":meta"); }
inline std::string SettingField(absl::string_view name) { return absl::StrCat("setting:", name); }

// "<prefix>:{<shard>}": the start of every key of a shard.
inline std::string ShardTag(absl::string_view prefix, uint32_t shard) {
  return absl::StrCat(prefix, ":{", shard, "}");
}
// The hash tag alone, "{<shard>}": what the shard's cluster slot is computed from (whatever
// the prefix, shard n of every deployment is in the same slot).
inline std::string HashTag(uint32_t shard) { return absl::StrCat("{", shard, "}"); }

// A month as the keys name it: "YYYY-MM" (of `month`, any day of it).
inline std::string MonthText(Day month) { return month.ToString().substr(0, 7); }
// The first day of the month "YYYY-MM" names; nullopt when it names none.
std::optional<Day> ParseMonthText(absl::string_view text);

// The keys of one shard of the store.
class ShardKeys {
 public:
  ShardKeys(absl::string_view prefix, uint32_t shard) : tag_(ShardTag(prefix, shard)) {}
  const std::string& tag() const { return tag_; }

  // Hash: model id -> ModelValue (its index, and its catalog record if it has one). Indexes
  // are 0..HLEN-1: the next free index is the hash's length.
  std::string models() const { return absl::StrCat(tag_, ":models"); }
  // String: all-time downloads per model, a dense array of big-endian i64 by index
  // (BITFIELD <key> INCRBY i64 #<index>); a model past the end has 0.
  std::string all_time() const { return absl::StrCat(tag_, ":all"); }
  // A day's downloads per model are kept in one of two forms, or both (a model's downloads on
  // the day are the sum): sparse while the day is closed, dense while it is open (writes are
  // cheapest there: one BITFIELD per window), compacted into the sparse form once it closes.
  // Hash: decimal index -> downloads on that day (models with none have no field).
  std::string day(Day day) const { return absl::StrCat(tag_, ":d:", day.ToString()); }
  // String: downloads on that day, big-endian i64 per index, like all_time().
  std::string dense_day(Day day) const { return absl::StrCat(tag_, ":dd:", day.ToString()); }
  // Set: the days ("YYYY-MM-DD") with downloads, in either form.
  std::string days() const { return absl::StrCat(tag_, ":days"); }
  // Set: the days that have a dense array.
  std::string dense_days() const { return absl::StrCat(tag_, ":dense"); }
  // Retention (RedisStore::FoldMonth): hash, decimal index -> downloads in a folded month
  // (models with none have no field), like day().
  std::string month(Day month) const { return absl::StrCat(tag_, ":m:", MonthText(month)); }
  // Set: the folded months ("YYYY-MM").
  std::string months() const { return absl::StrCat(tag_, ":months"); }
  // Hash: author -> all-time downloads (for the exact limit, kMaxCounterValue).
  std::string authors() const { return absl::StrCat(tag_, ":authors"); }
  // Hash: RevisionField -> downloads of that revision on that day, per model index.
  std::string revisions(uint32_t index) const { return absl::StrCat(tag_, ":rev:", index); }
  // Stream: the change log, one entry per change: field "p" the previous entry's id ("0-0"
  // for the first), field "r" EncodeChangeRecord. Entry ids are the shard's versions.
  std::string log() const { return absl::StrCat(tag_, ":log"); }
  // String: the id of the log's newest entry (absent: "0-0"), so versions are read without
  // reading entries.
  std::string version() const { return absl::StrCat(tag_, ":version"); }
  // String: the highest sequence of `producer` this shard applied (expires).
  std::string applied(absl::string_view producer) const {
    return absl::StrCat(tag_, ":applied:", producer);
  }
  // On a producer's home shard (ShardOf(producer)): sorted set of its newest committed batches
  // (member "<sequence>:<digest>", score the sequence), and the highest sequence trimmed from
  // it (string).
  std::string producer_log(absl::string_view producer) const {
    return absl::StrCat(tag_, ":producer:", producer);
  }
  std::string producer_floor(absl::string_view producer) const {
    return absl::StrCat(tag_, ":producer-floor:", producer);
  }

 private:
  std::string tag_;
};

// Log entry fields.
inline constexpr absl::string_view kLogPrevious = "p";
inline constexpr absl::string_view kLogRecord = "r";

// A models hash value: "<index>" or "<index>\t<SerializeRecord(record)>".
inline std::string ModelValue(uint32_t index, std::optional<absl::string_view> serialized) {
  return serialized ? absl::StrCat(index, "\t", *serialized) : absl::StrCat(index);
}
struct ParsedModelValue {
  uint32_t index = 0;
  std::optional<absl::string_view> serialized_record;  // Views the value.
};
// nullopt when `value` is not a ModelValue.
std::optional<ParsedModelValue> ParseModelValue(absl::string_view value);

// The BITFIELD type and offset of a model's counter in a dense array (all time, an open day).
inline constexpr absl::string_view kDenseType = "i64";
inline constexpr size_t kDenseBytes = 8;
inline std::string DenseOffset(uint32_t index) { return absl::StrCat("#", index); }
// The counter of `index` in a dense array's bytes (0 past its end).
int64_t DenseAt(absl::string_view array, uint32_t index);

// A revisions hash field: "<YYYY-MM-DD>|<revision>", or for a folded month (written only by
// fold_month.lua) "<YYYY-MM>|<revision>".
inline std::string RevisionField(Day day, absl::string_view revision) {
  return absl::StrCat(day.ToString(), "|", revision);
}
struct ParsedRevisionField {
  Day day;                     // With whole_month: the month's first day.
  absl::string_view revision;  // Views the field.
  bool whole_month = false;
};
std::optional<ParsedRevisionField> ParseRevisionField(absl::string_view field);

// Keys of the bench baselines (service/store/baselines): what a do-it-yourself job keeps
// instead of hubstats' facts, under its own prefix and the same shard tags. The store never
// reads them. `scope` is "all" or a day.
class BaselineKeys {
 public:
  BaselineKeys(absl::string_view prefix, uint32_t shard) : tag_(ShardTag(prefix, shard)) {}
  static std::string AllTime() { return "all"; }
  static std::string OfDay(Day day) { return absl::StrCat("d:", day.ToString()); }
  // Sorted sets: model id / author -> minus downloads (ascending = most downloaded first).
  std::string models(absl::string_view scope) const {
    return absl::StrCat(tag_, ":", scope, ":models");
  }
  std::string models(absl::string_view scope, absl::string_view modality) const {
    return absl::StrCat(tag_, ":", scope, ":models:", modality);
  }
  std::string authors(absl::string_view scope) const {
    return absl::StrCat(tag_, ":", scope, ":authors");
  }
  // Hash: aggregate counter ("s|<modality>|<size>", "t|<modality>|<task>", ...) -> downloads.
  std::string aggregates(absl::string_view scope) const {
    return absl::StrCat(tag_, ":", scope, ":agg");
  }

 private:
  std::string tag_;
};

}  // namespace hubstats::redis_keys

#endif  // HUBSTATS_SERVICE_STORE_REDIS_KEYS_H_
