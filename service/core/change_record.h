// Change records: what a shard's change log holds, one record per committed change.
//
// A store writes a record in the same atomic step as the change itself (a commit window's
// counts, models getting their index, catalog records), and every replica's read model
// follows the log to stay current without reading the counters again. A record holds the facts
// only (indexes, ids, records, downloads by model and day); everything derived (classes,
// aggregates, rankings) is computed by the reader.
//
// The encoding is compact binary (varints, counts sorted and delta-coded), versioned by its
// first byte: 1; 2 when the record holds all_time_only downloads; 3 when it names folded
// months (retention). A record is written in the oldest format that holds it, so records
// without the newer parts are read by servers that know only the older formats, as during a
// rolling upgrade. DecodeChangeRecord refuses anything else with DATA_LOSS.
#ifndef HUBSTATS_SERVICE_CORE_CHANGE_RECORD_H_
#define HUBSTATS_SERVICE_CORE_CHANGE_RECORD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/catalog.h"
#include "core/day.h"

namespace hubstats {

// A model got its index in the shard (indexes are never reused or changed).
struct ModelIndexed {
  uint32_t index = 0;
  std::string model_id;
  bool operator==(const ModelIndexed&) const = default;
};

// A model's catalog record was written (replacing any earlier one).
struct RecordWritten {
  uint32_t index = 0;
  CatalogRecord record;  // model_id included.
  bool operator==(const RecordWritten&) const = default;
};

// Downloads added to a model on a day (and so to its all-time total).
struct DownloadsAdded {
  uint32_t index = 0;
  Day day;
  int64_t downloads = 0;
  bool operator==(const DownloadsAdded&) const = default;
};

// Late downloads added to a model's all-time total only, on no day (LatePolicy::kAllTimeOnly).
struct AllTimeAdded {
  uint32_t index = 0;
  int64_t downloads = 0;
  bool operator==(const AllTimeAdded&) const = default;
};

struct ChangeRecord {
  std::vector<ModelIndexed> indexed;  // Applied first: later parts may name these indexes.
  std::vector<RecordWritten> records;
  std::vector<DownloadsAdded> downloads;
  std::vector<AllTimeAdded> all_time_only;
  // Months (each by its first day) whose per-day detail the shard folded into monthly totals
  // (Store::FoldMonth): their days' downloads now count per month, not per day.
  std::vector<Day> folded_months;
  // Changes nothing: not logged.
  bool empty() const {
    return indexed.empty() && records.empty() && downloads.empty() && all_time_only.empty() &&
           folded_months.empty();
  }
  bool operator==(const ChangeRecord&) const = default;
};

std::string EncodeChangeRecord(const ChangeRecord& record);
// DATA_LOSS when `bytes` is not an encoded record.
absl::StatusOr<ChangeRecord> DecodeChangeRecord(absl::string_view bytes);

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_CORE_CHANGE_RECORD_H_
