#include "app/model_export.h"

#include <algorithm>

#include "core/model_class.h"
#include "core/size_class.h"
#include "core/stats.h"

namespace hubstats {

ModelExport::ModelExport(std::vector<Entry> entries, KeyNames names)
    : entries_(std::move(entries)), names_(std::move(names)) {
  for (const Entry& entry : entries_) total_downloads_ += entry.downloads;
}

std::vector<ExportedModel> ModelExport::Rows(size_t begin, size_t end) const {
  end = std::min(end, entries_.size());
  std::vector<ExportedModel> rows;
  if (begin >= end) return rows;
  rows.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) {
    const Entry& entry = entries_[i];
    ExportedModel& row = rows.emplace_back();
    row.rank = static_cast<int64_t>(i) + 1;
    row.id = std::string(entry.id);
    row.author = std::string(entry.author);
    row.downloads = entry.downloads;
    row.share_pct = SharePct(entry.downloads, total_downloads_);
    row.modality = entry.cls.modality;
    row.task = std::string(names_.tasks[entry.cls.task]);
    row.architecture = std::string(names_.architectures[entry.cls.architecture]);
    row.library = std::string(names_.libraries[entry.cls.library]);
    if (entry.cls.size_bucket >= 0) {
      row.parameters = entry.parameters;
      row.size_class = FineBucketLabel(entry.cls.size_bucket);
    } else {
      row.size_class = std::string(kUnknownKey);
    }
    row.catalogued = entry.catalogued;
  }
  return rows;
}

}  // namespace hubstats
