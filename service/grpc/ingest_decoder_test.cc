#include "grpc/ingest_decoder.h"

#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "app/stats_service.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest_wire.pb.h"

namespace hubstats {
namespace {

using ::testing::HasSubstr;

std::string RandomBytes(std::mt19937_64& random, size_t max_length) {
  std::string bytes(random() % (max_length + 1), '\0');
  for (char& c : bytes) {
    // Mostly id-like text, sometimes anything (not UTF-8, NUL, control bytes).
    c = random() % 4 == 0 ? static_cast<char>(random() % 256) : "abcXYZ019._-/"[random() % 13];
  }
  return bytes;
}

test::WireRequest RandomRequest(std::mt19937_64& random) {
  test::WireRequest request;
  const int events = static_cast<int>(random() % 6);
  for (int i = 0; i < events; ++i) {
    test::WireEvent* event = request.add_events();
    event->set_model_id(RandomBytes(random, 20));
    if (random() % 2) {
      event->mutable_timestamp()->set_seconds(static_cast<int64_t>(random()));
      if (random() % 2) event->mutable_timestamp()->set_nanos(static_cast<int32_t>(random()));
    }
    if (random() % 2) event->set_count(static_cast<int64_t>(random()) >> (random() % 64));
    if (random() % 2) event->set_revision(RandomBytes(random, 8));
  }
  if (random() % 2) request.set_producer_id(RandomBytes(random, 12));
  if (random() % 2) request.set_sequence(random());
  if (random() % 2) {
    test::WirePacked* packed = request.mutable_packed();
    const int ids = 1 + static_cast<int>(random() % 3);
    for (int i = 0; i < ids; ++i) packed->add_model_ids(RandomBytes(random, 12));
    const int count = static_cast<int>(random() % 6);
    const bool times = random() % 2, counts = random() % 2, revisions = random() % 2;
    if (revisions) {
      packed->add_revisions("");
      packed->add_revisions(RandomBytes(random, 6));
    }
    for (int i = 0; i < count; ++i) {
      packed->add_model_index(static_cast<uint32_t>(random() % ids));
      if (times) {
        packed->add_timestamp_seconds(static_cast<int64_t>(random()));
        packed->add_timestamp_nanos(static_cast<int32_t>(random()));
      }
      if (counts) packed->add_counts(static_cast<int64_t>(random()) >> (random() % 64));
      if (revisions) packed->add_revision_index(static_cast<uint32_t>(random() % 2));
    }
  }
  return request;
}

// The packed columns must equal protobuf's, entry by entry.
void ExpectSameColumns(const test::WireRequest& expected, const PackedColumns& actual,
                       const std::string& context) {
  const test::WirePacked& want = expected.packed();
  EXPECT_THAT(actual.model_ids, ::testing::ElementsAreArray(want.model_ids())) << context;
  EXPECT_THAT(actual.model_index, ::testing::ElementsAreArray(want.model_index())) << context;
  EXPECT_THAT(actual.timestamp_seconds, ::testing::ElementsAreArray(want.timestamp_seconds()))
      << context;
  EXPECT_THAT(actual.timestamp_nanos, ::testing::ElementsAreArray(want.timestamp_nanos()))
      << context;
  EXPECT_THAT(actual.counts, ::testing::ElementsAreArray(want.counts())) << context;
  EXPECT_THAT(actual.revisions, ::testing::ElementsAreArray(want.revisions())) << context;
  EXPECT_THAT(actual.revision_index, ::testing::ElementsAreArray(want.revision_index())) << context;
}

// The same content, decoded two ways, must agree field by field.
void ExpectSame(const test::WireRequest& expected, const DecodedBatch& actual,
                const std::string& context) {
  ASSERT_EQ(actual.events.size(), static_cast<size_t>(expected.events_size())) << context;
  EXPECT_EQ(actual.event_count,
            actual.events.size() + static_cast<size_t>(expected.packed().model_index_size()))
      << context;
  EXPECT_EQ(actual.producer_id, expected.producer_id()) << context;
  EXPECT_EQ(actual.sequence, expected.sequence()) << context;
  for (int i = 0; i < expected.events_size(); ++i) {
    const test::WireEvent& want = expected.events(i);
    const RawEvent& got = actual.events[i];
    EXPECT_EQ(got.model_id, want.model_id()) << context << " event " << i;
    EXPECT_EQ(got.revision, want.revision()) << context << " event " << i;
    EXPECT_EQ(got.timestamp_seconds.has_value(), want.has_timestamp()) << context << " " << i;
    if (want.has_timestamp()) {
      EXPECT_EQ(*got.timestamp_seconds, want.timestamp().seconds()) << context << " " << i;
      EXPECT_EQ(got.timestamp_nanos, want.timestamp().nanos()) << context << " " << i;
    }
    EXPECT_EQ(got.count.has_value(), want.has_count()) << context << " event " << i;
    if (want.has_count()) {
      EXPECT_EQ(*got.count, want.count()) << context << " event " << i;
    }
  }
}

TEST(IngestDecoderTest, AgreesWithProtobufOnRandomMessages) {
  std::mt19937_64 random(20261130);
  for (int round = 0; round < 2000; ++round) {
    const test::WireRequest request = RandomRequest(random);
    DecodedBatch batch;
    PackedColumns columns;
    ASSERT_TRUE(DecodeIngestWire(request.SerializeAsString(), 1000, batch, columns).ok());
    ExpectSame(request, batch, absl::StrCat("round ", round));
    ExpectSameColumns(request, columns, absl::StrCat("round ", round));
  }
}

// Mutated bytes: whenever protobuf (without its UTF-8 check) accepts them, the decoder must
// accept them with the same content, and the other way round.
TEST(IngestDecoderTest, AgreesWithProtobufOnMutatedBytes) {
  std::mt19937_64 random(7);
  int accepted = 0, refused = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string bytes = RandomRequest(random).SerializeAsString();
    const int mutations = 1 + static_cast<int>(random() % 3);
    for (int m = 0; m < mutations && !bytes.empty(); ++m) {
      const size_t at = random() % bytes.size();
      switch (random() % 5) {
        case 0:
          bytes[at] = static_cast<char>(random() % 256);
          break;
        case 1:
          bytes.insert(at, 1, static_cast<char>(random() % 256));
          break;
        case 2:
          bytes.erase(at, 1);
          break;
        case 3:
          bytes.resize(at);
          break;
        default:
          bytes.insert(at, bytes.substr(at, random() % 8));
          break;
      }
    }
    test::WireRequest parsed;
    const bool protobuf_ok = parsed.ParseFromString(bytes);
    DecodedBatch batch;
    PackedColumns columns;
    const absl::Status status = DecodeIngestWire(bytes, 100000, batch, columns);
    ASSERT_EQ(status.ok(), protobuf_ok)
        << "round " << round << ": " << status << " bytes " << absl::CEscape(bytes);
    if (protobuf_ok) {
      ++accepted;
      ExpectSame(parsed, batch, absl::StrCat("round ", round));
      ExpectSameColumns(parsed, columns, absl::StrCat("round ", round));
    } else {
      ++refused;
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(status.message(), HasSubstr("not a valid hubstats.v1.IngestRequest"));
    }
  }
  // Both outcomes were exercised.
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(refused, 1000);
}

TEST(IngestDecoderTest, PackedEventsFollowTheEventsWithTheirColumns) {
  test::WireRequest request;
  request.add_events()->set_model_id("org/first");
  test::WirePacked* packed = request.mutable_packed();
  for (const char* id : {"org/a", "org/b"}) packed->add_model_ids(id);
  for (const char* revision : {"", "main"}) packed->add_revisions(revision);
  for (uint32_t index : {1, 0, 1}) packed->add_model_index(index);
  for (int64_t count : {5, 6, 7}) packed->add_counts(count);
  for (uint32_t revision : {0, 1, 1}) packed->add_revision_index(revision);
  DecodedBatch batch;
  ASSERT_TRUE(DecodeIngestRequest(request.SerializeAsString(), 10, batch).ok());
  ASSERT_EQ(batch.events.size(), 4u);
  EXPECT_EQ(batch.events[0].model_id, "org/first");
  EXPECT_EQ(batch.events[1].model_id, "org/b");
  EXPECT_EQ(batch.events[1].count, 5);
  EXPECT_EQ(batch.events[1].revision, "");
  EXPECT_FALSE(batch.events[1].timestamp_seconds.has_value());
  EXPECT_EQ(batch.events[3].model_id, "org/b");
  EXPECT_EQ(batch.events[3].count, 7);
  EXPECT_EQ(batch.events[3].revision, "main");
  // Too many events counts the packed ones too.
  EXPECT_EQ(DecodeIngestRequest(request.SerializeAsString(), 3, batch).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(IngestDecoderTest, PackedColumnsMustFitTheEvents) {
  auto refused = [](const test::WireRequest& request) {
    DecodedBatch batch;
    return DecodeIngestRequest(request.SerializeAsString(), 100, batch);
  };
  test::WireRequest request;
  test::WirePacked* packed = request.mutable_packed();
  packed->add_model_ids("org/a");
  packed->add_model_index(0);
  packed->add_model_index(0);
  packed->add_counts(1);
  EXPECT_THAT(refused(request).message(), HasSubstr("packed.counts: has 1 entries for 2 events"));
  packed->add_counts(2);
  packed->add_model_index(3);
  packed->add_counts(3);
  EXPECT_THAT(refused(request).message(),
              HasSubstr("packed.model_index[2]: 3 is not an index of model_ids (1 ids)"));
}

TEST(IngestDecoderTest, UnknownFieldsAndGroupsAreSkipped) {
  test::WireRequest request;
  request.add_events()->set_model_id("org/model");
  std::string bytes = request.SerializeAsString();
  // Unknown field 9 as varint, fixed64, fixed32, bytes and a group holding a field.
  bytes += std::string("\x48\x01", 2) + std::string("\x49", 1) + std::string(8, '\x01') +
           std::string("\x4d", 1) + std::string(4, '\x02') + std::string("\x4a\x02xy", 4) +
           std::string("\x4b\x08\x05\x4c", 4);
  DecodedBatch batch;
  ASSERT_TRUE(DecodeIngestRequest(bytes, 10, batch).ok());
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].model_id, "org/model");
}

TEST(IngestDecoderTest, MalformedMessagesSayWhatIsWrong) {
  struct Case {
    std::string bytes;
    std::string problem;
  };
  std::string deep;
  for (int i = 0; i < 100'000; ++i) deep += '\x2b';
  for (int i = 0; i < 100'000; ++i) deep += '\x2c';
  for (const Case& c : std::vector<Case>{
           {std::string("\x08", 1), "truncated varint"},
           {std::string("\x0a\x05\x0a", 3), "length past the end"},
           // Found by the fuzzer: protobuf refuses a length in more than 5 bytes, even of 0.
           {std::string("\x22\x80\x80\x80\x80\x80\x00", 7), "length longer than 5 bytes"},
           {std::string("\x22\x80\x80\x80\x80\x08", 6), "length of 2 GiB or more"},
           {std::string("\x22\x80", 2), "truncated length"},
           {std::string("\x0f", 1), "unknown wire type 7"},
           {std::string("\x00\x01", 2), "field number 0"},
           {std::string("\x2c", 1), "end of a group that was not started"},
           {std::string("\x2b\x34", 2), "another field's end tag"},
           {deep, "groups nested deeper than 64"},
           {std::string("\x0a\x02\x12\x01", 4), "events[0]"},
       }) {
    DecodedBatch batch;
    const absl::Status status = DecodeIngestRequest(c.bytes, 10, batch);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.problem;
    EXPECT_THAT(status.message(), HasSubstr(c.problem));
  }
}

// Found by the fuzzer: the decoder read a length as any varint, protobuf reads at most 5 bytes
// below 2 GiB, so an overlong encoding of 0 passed the decoder and failed protobuf.
TEST(IngestDecoderTest, LengthsFollowProtobufsLimits) {
  for (const std::string& bytes : {std::string("\x22\x80\x80\x80\x80\x80\x00", 7),
                                   std::string("\x22\x80\x80\x80\x80\x08", 6)}) {
    test::WireRequest parsed;
    EXPECT_FALSE(parsed.ParseFromString(bytes));
    DecodedBatch batch;
    EXPECT_FALSE(DecodeIngestRequest(bytes, 10, batch).ok());
  }
  // The longest length protobuf takes: 5 bytes, below 2 GiB (here 0, encoded in 5 bytes).
  const std::string longest("\x22\x80\x80\x80\x80\x00", 6);
  test::WireRequest parsed;
  EXPECT_TRUE(parsed.ParseFromString(longest));
  DecodedBatch batch;
  EXPECT_TRUE(DecodeIngestRequest(longest, 10, batch).ok());
}

TEST(IngestDecoderTest, TooManyEventsAreCountedNotKept) {
  test::WireRequest request;
  for (int i = 0; i < 11; ++i) request.add_events()->set_model_id("m");
  DecodedBatch batch;
  const absl::Status status = DecodeIngestRequest(request.SerializeAsString(), 10, batch);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("events: at most 10 per request, got 11"));
  EXPECT_EQ(batch.event_count, 11u);
  EXPECT_TRUE(batch.events.empty());
}

// The budget counts kDecodedBytesPerEvent for every event a batch holds: it must cover what an
// event costs until its batch is answered: its RawEvent until validated, then its validated
// form, or, when refused, its rejection with a reason and that rejection in the answer.
TEST(IngestDecoderTest, PerEventEstimateCoversWhatAnEventHolds) {
  constexpr size_t kReason = 64, kAnswer = 64;  // A typical reason's heap text; its encoding.
  EXPECT_GE(kDecodedBytesPerEvent, sizeof(RawEvent) + sizeof(std::pair<int, ValidEvent>));
  EXPECT_GE(kDecodedBytesPerEvent, sizeof(RawEvent) + sizeof(ItemRejection) + kReason + kAnswer);
}

}  // namespace
}  // namespace hubstats
