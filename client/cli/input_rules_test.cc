// Runs the input rules' shared cases (tests/input_rules/cases.json, also run by the Python
// client's tests) through the CLI's reader: every item read must be the case's, in order.
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/enum_names.h"
#include "core/field_error.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "input.h"

namespace hubstats::cli {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using ::testing::HasSubstr;

Struct ReadCases() {
  std::ifstream file(HUBSTATS_INPUT_RULES_DIR "/cases.json");
  std::stringstream text;
  text << file.rdbuf();
  Struct cases;
  const auto status = google::protobuf::util::JsonStringToMessage(text.str(), &cases);
  EXPECT_TRUE(status.ok()) << status;
  return cases;
}

const Value* Get(const Struct& object, const std::string& key) {
  auto it = object.fields().find(key);
  return it == object.fields().end() ? nullptr : &it->second;
}

std::string Text(const Struct& object, const std::string& key) {
  const Value* value = Get(object, key);
  return value == nullptr ? "" : value->string_value();
}

int64_t Number(const Struct& object, const std::string& key) {
  return static_cast<int64_t>(Get(object, key)->number_value());
}

std::string FileText(const Struct& test_case) {
  if (const Value* text = Get(test_case, "text")) return text->string_value();
  std::string joined;
  for (const Value& line : Get(test_case, "lines")->list_value().values()) {
    absl::StrAppend(&joined, line.string_value(), "\n");
  }
  return joined;
}

v1::DownloadEvent ExpectedEvent(const Struct& fields) {
  v1::DownloadEvent event;
  event.set_model_id(Text(fields, "model_id"));
  if (const Value* timestamp = Get(fields, "timestamp")) {
    event.mutable_timestamp()->set_seconds(
        static_cast<int64_t>(timestamp->list_value().values(0).number_value()));
    event.mutable_timestamp()->set_nanos(
        static_cast<int32_t>(timestamp->list_value().values(1).number_value()));
  }
  if (Get(fields, "count") != nullptr) event.set_count(Number(fields, "count"));
  if (Get(fields, "revision") != nullptr) event.set_revision(Text(fields, "revision"));
  return event;
}

v1::ModelRecord ExpectedRecord(const Struct& fields) {
  v1::ModelRecord record;
  record.set_model_id(Text(fields, "model_id"));
  record.set_pipeline_tag(Text(fields, "pipeline_tag"));
  record.set_library_name(Text(fields, "library_name"));
  if (Get(fields, "modality") != nullptr) {
    record.set_modality(*client::ParseModality(Text(fields, "modality")));
  }
  if (Get(fields, "num_parameters") != nullptr) {
    record.set_num_parameters(Number(fields, "num_parameters"));
  }
  if (Get(fields, "architecture") != nullptr) {
    record.set_architecture(*client::ParseArchitecture(Text(fields, "architecture")));
  }
  return record;
}

// The message an item converts to, or why it does not.
template <typename Message>
absl::StatusOr<Message> Convert(const InputItem& item,
                                absl::StatusOr<Message> (*from_fields)(const InputFields&)) {
  if (!item.error.ok()) return item.error;
  return from_fields(item.fields);
}

template <typename Message>
void CheckItems(InputReader& reader, const Value& expected_items,
                absl::StatusOr<Message> (*from_fields)(const InputFields&),
                Message (*expected_message)(const Struct&), const char* message_key) {
  const auto& expected = expected_items.list_value().values();
  InputItem item;
  int index = 0;
  while (reader.Next(item)) {
    ASSERT_LT(index, expected.size()) << "an item more than expected, on line " << item.line;
    const Struct& want = expected[index++].struct_value();
    SCOPED_TRACE(absl::StrCat("item ", index, ", line ", item.line));
    EXPECT_EQ(item.line, Number(want, "line"));
    absl::StatusOr<Message> got = Convert(item, from_fields);
    if (const Value* error = Get(want, "error")) {
      ASSERT_FALSE(got.ok()) << "expected an error, read " << got->ShortDebugString();
      EXPECT_THAT(ReasonOf(got.status()), HasSubstr(Text(error->struct_value(), "reason")));
      if (Get(error->struct_value(), "field") != nullptr) {
        EXPECT_EQ(FieldOf(got.status()), Text(error->struct_value(), "field"));
      }
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.status();
    const Message want_message = expected_message(Get(want, message_key)->struct_value());
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*got, want_message))
        << "read " << got->ShortDebugString() << "\nwant " << want_message.ShortDebugString();
  }
  EXPECT_EQ(index, expected.size()) << "fewer items than expected";
}

TEST(InputRulesTest, EverySharedCase) {
  const Struct cases = ReadCases();
  const Value* list = Get(cases, "cases");
  ASSERT_NE(list, nullptr);
  ASSERT_GT(list->list_value().values_size(), 10);
  for (const Value& each : list->list_value().values()) {
    const Struct& test_case = each.struct_value();
    SCOPED_TRACE(Text(test_case, "name"));
    const bool events = Text(test_case, "kind") == "events";
    const InputFormat format =
        Text(test_case, "format") == "csv" ? InputFormat::kCsv : InputFormat::kJsonLines;
    const size_t max_bytes =
        Get(test_case, "max_item_bytes") != nullptr ? Number(test_case, "max_item_bytes") : 4 << 20;
    std::istringstream stream(FileText(test_case));
    absl::StatusOr<std::unique_ptr<InputReader>> reader =
        InputReader::Open(stream, format, events ? ItemKind::kEvent : ItemKind::kRecord, max_bytes);
    if (const Value* fatal = Get(test_case, "fatal")) {
      ASSERT_FALSE(reader.ok()) << "the file should not be readable";
      EXPECT_THAT(reader.status().message(),
                  HasSubstr(absl::StrCat("line ", Number(fatal->struct_value(), "line"), ": ")));
      EXPECT_THAT(reader.status().message(), HasSubstr(Text(fatal->struct_value(), "reason")));
      continue;
    }
    ASSERT_TRUE(reader.ok()) << reader.status();
    if (events) {
      CheckItems<v1::DownloadEvent>(**reader, *Get(test_case, "items"), EventFromFields,
                                    ExpectedEvent, "event");
    } else {
      CheckItems<v1::ModelRecord>(**reader, *Get(test_case, "items"), RecordFromFields,
                                  ExpectedRecord, "record");
    }
  }
}

}  // namespace
}  // namespace hubstats::cli
