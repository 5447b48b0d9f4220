#include "common/packed_events.h"

#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace hubstats::client {

void PackEvents(std::vector<v1::DownloadEvent>& events, std::vector<int>& positions,
                v1::IngestRequest& request) {
  bool any_time = false, any_count = false, any_revision = false;
  for (const v1::DownloadEvent& event : events) {
    any_time |= event.has_timestamp();
    any_count |= event.has_count();
    any_revision |= !event.revision().empty();
  }
  std::vector<int> packed_positions;
  v1::PackedEvents& packed = *request.mutable_packed();
  absl::flat_hash_map<std::string, uint32_t> ids, revisions;
  if (any_revision) {
    packed.add_revisions("");
    revisions.emplace("", 0);
  }
  std::vector<int> listed_positions;
  for (size_t i = 0; i < events.size(); ++i) {
    v1::DownloadEvent& event = events[i];
    if (any_time && !event.has_timestamp()) {
      listed_positions.push_back(positions[i]);
      *request.add_events() = std::move(event);
      continue;
    }
    auto [id, new_id] =
        ids.try_emplace(event.model_id(), static_cast<uint32_t>(packed.model_ids_size()));
    if (new_id) packed.add_model_ids(event.model_id());
    packed.add_model_index(id->second);
    if (any_time) {
      packed.add_timestamp_seconds(event.timestamp().seconds());
      packed.add_timestamp_nanos(event.timestamp().nanos());
    }
    if (any_count) packed.add_counts(event.has_count() ? event.count() : 1);
    if (any_revision) {
      auto [revision, new_revision] =
          revisions.try_emplace(event.revision(), static_cast<uint32_t>(packed.revisions_size()));
      if (new_revision) packed.add_revisions(event.revision());
      packed.add_revision_index(revision->second);
    }
    packed_positions.push_back(positions[i]);
  }
  if (packed.model_index_size() == 0) request.clear_packed();
  listed_positions.insert(listed_positions.end(), packed_positions.begin(), packed_positions.end());
  positions = std::move(listed_positions);
}

}  // namespace hubstats::client
