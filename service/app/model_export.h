// ModelExport: every model with downloads in a range (and a filter), in ranking order, as the
// read model held them at one version: the snapshot an export streams from.
//
// The snapshot keeps per model its id, author, class and downloads (about 70 bytes a model:
// 150 MB for 2.2 million), names as views into the read model's arenas, which live as long as
// the read model; the export must not outlive it. Immutable once made: thread-safe.
#ifndef HUBSTATS_SERVICE_APP_MODEL_EXPORT_H_
#define HUBSTATS_SERVICE_APP_MODEL_EXPORT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "app/model_table.h"
#include "core/modality.h"

namespace hubstats {

// One exported model, named.
struct ExportedModel {
  int64_t rank = 0;  // From 1.
  std::string id;
  std::string author;
  int64_t downloads = 0;
  double share_pct = 0;  // Of the export's total_downloads.
  Modality modality = Modality::kUnknown;
  std::string task, architecture, library;  // Breakdown keys.
  std::optional<int64_t> parameters;        // nullopt: unknown size.
  std::string size_class;                   // Fine bucket label, or "unknown".
  bool catalogued = false;
};

class ModelExport {
 public:
  // What the read model copies for each model.
  struct Entry {
    absl::string_view id;
    absl::string_view author;
    ClassKey cls;
    bool catalogued = false;
    int64_t parameters = 0;
    int64_t downloads = 0;
  };
  // The names of the interned class keys (ClassKey::task etc.) when the snapshot was made.
  struct KeyNames {
    std::vector<absl::string_view> tasks, architectures, libraries;
  };

  ModelExport() = default;
  // `entries` in ranking order (downloads descending, id ascending).
  ModelExport(std::vector<Entry> entries, KeyNames names);

  size_t size() const { return entries_.size(); }
  int64_t total_downloads() const { return total_downloads_; }
  // The models ranked begin+1..min(end, size()), named.
  std::vector<ExportedModel> Rows(size_t begin, size_t end) const;

 private:
  std::vector<Entry> entries_;
  KeyNames names_;
  int64_t total_downloads_ = 0;
};

}  // namespace hubstats

#endif  // HUBSTATS_SERVICE_APP_MODEL_EXPORT_H_
