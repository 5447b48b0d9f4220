#include "common/packed_events.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hubstats::client {
namespace {

using ::testing::ElementsAre;

v1::DownloadEvent Event(const std::string& model, int64_t seconds = -1, int64_t count = 0,
                        const std::string& revision = "") {
  v1::DownloadEvent event;
  event.set_model_id(model);
  if (seconds >= 0) event.mutable_timestamp()->set_seconds(seconds);
  if (count > 0) event.set_count(count);
  event.set_revision(revision);
  return event;
}

// The events a request holds, in its order, read back the way docs/API.md defines the columns.
std::vector<std::string> Unpacked(const v1::IngestRequest& request) {
  std::vector<std::string> out;
  for (const v1::DownloadEvent& event : request.events()) {
    out.push_back(event.model_id() + "@" + std::to_string(event.timestamp().seconds()) + "x" +
                  std::to_string(event.has_count() ? event.count() : 1) + "#" + event.revision());
  }
  const v1::PackedEvents& packed = request.packed();
  for (int i = 0; i < packed.model_index_size(); ++i) {
    const int64_t seconds = packed.timestamp_seconds_size() ? packed.timestamp_seconds(i) : 0;
    const int64_t count = packed.counts_size() ? packed.counts(i) : 1;
    const std::string revision =
        packed.revision_index_size() ? packed.revisions(packed.revision_index(i)) : "";
    out.push_back(packed.model_ids(packed.model_index(i)) + "@" + std::to_string(seconds) + "x" +
                  std::to_string(count) + "#" + revision);
  }
  return out;
}

TEST(PackedEventsTest, ColumnsHoldEveryEventWithEachIdOnce) {
  std::vector<v1::DownloadEvent> events = {Event("a/x", 10, 2, "r1"), Event("b/y", 20),
                                           Event("a/x", 30, 0, "r1"), Event("c/z", 40, 5, "r2")};
  std::vector<int> positions = {0, 1, 2, 3};
  v1::IngestRequest request;
  PackEvents(events, positions, request);
  EXPECT_EQ(request.events_size(), 0);
  EXPECT_THAT(request.packed().model_ids(), ElementsAre("a/x", "b/y", "c/z"));
  EXPECT_THAT(request.packed().revisions(), ElementsAre("", "r1", "r2"));
  EXPECT_THAT(Unpacked(request),
              ElementsAre("a/x@10x2#r1", "b/y@20x1#", "a/x@30x1#r1", "c/z@40x5#r2"));
  EXPECT_THAT(positions, ElementsAre(0, 1, 2, 3));
}

TEST(PackedEventsTest, ColumnsNoEventNeedsAreLeftOut) {
  std::vector<v1::DownloadEvent> events = {Event("a/x"), Event("b/y")};
  std::vector<int> positions = {7, 8};
  v1::IngestRequest request;
  PackEvents(events, positions, request);
  EXPECT_EQ(request.packed().timestamp_seconds_size(), 0);
  EXPECT_EQ(request.packed().counts_size(), 0);
  EXPECT_EQ(request.packed().revisions_size(), 0);
  EXPECT_THAT(Unpacked(request), ElementsAre("a/x@0x1#", "b/y@0x1#"));
}

TEST(PackedEventsTest, EventsWithoutATimestampAmongTimedOnesComeFirstAndPositionsFollow) {
  std::vector<v1::DownloadEvent> events = {Event("a/x", 10), Event("b/y"), Event("c/z", 30),
                                           Event("d/w")};
  std::vector<int> positions = {100, 101, 102, 103};
  v1::IngestRequest request;
  request.set_sequence(9);
  PackEvents(events, positions, request);
  EXPECT_EQ(request.sequence(), 9u);
  EXPECT_EQ(request.events_size(), 2);
  EXPECT_FALSE(request.events(0).has_timestamp());
  EXPECT_THAT(Unpacked(request), ElementsAre("b/y@0x1#", "d/w@0x1#", "a/x@10x1#", "c/z@30x1#"));
  EXPECT_THAT(positions, ElementsAre(101, 103, 100, 102));
}

TEST(PackedEventsTest, NoColumnsWhenEveryEventIsListed) {
  std::vector<v1::DownloadEvent> events;
  std::vector<int> positions;
  v1::IngestRequest request;
  PackEvents(events, positions, request);
  EXPECT_FALSE(request.has_packed());
  EXPECT_EQ(request.events_size(), 0);
}

}  // namespace
}  // namespace hubstats::client
