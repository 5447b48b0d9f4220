#include "input.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "core/day.h"
#include "core/modality.h"
#include "core/size_class.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace hubstats::cli {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

absl::Status Bad(absl::string_view reason) { return absl::InvalidArgumentError(reason); }

absl::StatusOr<Struct> ParseObject(absl::string_view line) {
  Struct object;
  google::protobuf::util::JsonParseOptions options;
  const auto status = google::protobuf::util::JsonStringToMessage(
      std::string(line.data(), line.size()), &object, options);
  if (!status.ok()) {
    // The parser's message continues with an excerpt of the input on further lines.
    const std::string message(status.message());
    return Bad(absl::StrCat("not a JSON object: ", message.substr(0, message.find('\n'))));
  }
  return object;
}

const Value* Find(const Struct& object, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    auto it = object.fields().find(key);
    if (it != object.fields().end() && it->second.kind_case() != Value::kNullValue) {
      return &it->second;
    }
  }
  return nullptr;
}

absl::StatusOr<std::string> StringField(const Value& value, absl::string_view name) {
  if (value.kind_case() != Value::kStringValue) {
    return Bad(absl::StrCat(name, " must be a string"));
  }
  return value.string_value();
}

// JSON numbers arrive as doubles: exact for integers up to 2^53, which covers every count.
absl::StatusOr<int64_t> IntegerField(const Value& value, absl::string_view name) {
  if (value.kind_case() != Value::kNumberValue) {
    return Bad(absl::StrCat(name, " must be a number"));
  }
  const double number = value.number_value();
  if (number != std::floor(number) || std::fabs(number) > 9007199254740991.0) {
    return Bad(absl::StrCat(name, " must be a whole number, got ", number));
  }
  return static_cast<int64_t>(number);
}

absl::Status SetTimestamp(const Value& value, v1::DownloadEvent& event) {
  absl::Time time;
  if (value.kind_case() == Value::kNumberValue) {
    const double seconds = value.number_value();
    if (!std::isfinite(seconds) || std::fabs(seconds) > 1e11) {
      return Bad("timestamp is not a plausible Unix time in seconds");
    }
    time = absl::FromUnixMicros(static_cast<int64_t>(std::llround(seconds * 1e6)));
  } else if (value.kind_case() == Value::kStringValue) {
    const std::string& text = value.string_value();
    std::string error;
    if (text.size() == 10) {
      absl::StatusOr<Day> day = Day::Parse(text);
      if (!day.ok()) return Bad(absl::StrCat("timestamp '", text, "' is not a valid date"));
      time = absl::FromUnixSeconds(int64_t{day->number()} * 86400);
    } else if (!absl::ParseTime(absl::RFC3339_full, text, &time, &error)) {
      return Bad(absl::StrCat("timestamp '", text,
                              "' is not RFC 3339 (e.g. 2024-09-20T12:00:00Z): ", error));
    }
  } else {
    return Bad("timestamp must be an RFC 3339 string or Unix seconds");
  }
  const int64_t nanos = absl::ToUnixNanos(time);
  event.mutable_timestamp()->set_seconds(absl::ToUnixSeconds(time));
  event.mutable_timestamp()->set_nanos(
      static_cast<int32_t>(nanos - absl::ToUnixSeconds(time) * 1'000'000'000));
  return absl::OkStatus();
}

absl::StatusOr<v1::Architecture> ParseArchitecture(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "encoder") return v1::ARCHITECTURE_ENCODER;
  if (lower == "decoder") return v1::ARCHITECTURE_DECODER;
  if (lower == "encoder-decoder" || lower == "encoder_decoder") {
    return v1::ARCHITECTURE_ENCODER_DECODER;
  }
  if (lower == "other") return v1::ARCHITECTURE_OTHER;
  return Bad(absl::StrCat("architecture '", name,
                          "' is not one of encoder, decoder, encoder-decoder, other"));
}

// Shared by JSON and CSV: one named value, given as text, onto the record.
absl::Status SetRecordField(absl::string_view column, absl::string_view text,
                            v1::ModelRecord& record) {
  if (column == "model_id" || column == "modelId") {
    record.set_model_id(std::string(text));
  } else if (column == "pipeline_tag") {
    record.set_pipeline_tag(std::string(text));
  } else if (column == "modality") {
    absl::StatusOr<v1::Modality> modality = ParseModalityName(text);
    if (!modality.ok()) return modality.status();
    record.set_modality(*modality);
  } else if (column == "num_parameters") {
    absl::StatusOr<int64_t> parameters = ParseParameters(text, "num_parameters");
    if (!parameters.ok()) return Bad(parameters.status().message());
    record.set_num_parameters(*parameters);
  } else if (column == "architecture") {
    absl::StatusOr<v1::Architecture> architecture = ParseArchitecture(text);
    if (!architecture.ok()) return architecture.status();
    record.set_architecture(*architecture);
  } else if (column == "library_name" || column == "library") {
    record.set_library_name(std::string(text));
  }
  return absl::OkStatus();
}

constexpr const char* kRecordColumns[] = {"model_id",     "modelId",        "pipeline_tag",
                                          "modality",     "num_parameters", "architecture",
                                          "library_name", "library"};

}  // namespace

absl::StatusOr<v1::Modality> ParseModalityName(absl::string_view name) {
  std::optional<Modality> modality = ModalityFromName(absl::AsciiStrToLower(name));
  if (!modality) {
    std::vector<std::string> names;
    for (Modality each : AllModalities()) names.emplace_back(ModalityName(each));
    return Bad(absl::StrCat("modality '", name, "' is not one of ", absl::StrJoin(names, ", ")));
  }
  return static_cast<v1::Modality>(static_cast<int>(*modality) + 1);
}

std::string ModalityShortName(v1::Modality modality) {
  if (modality == v1::MODALITY_UNSPECIFIED) return "";
  return std::string(ModalityName(static_cast<Modality>(static_cast<int>(modality) - 1)));
}

absl::StatusOr<v1::DownloadEvent> ParseEventLine(absl::string_view line) {
  absl::StatusOr<Struct> object = ParseObject(line);
  if (!object.ok()) return object.status();
  v1::DownloadEvent event;
  const Value* model_id = Find(*object, {"model_id"});
  if (model_id == nullptr) return Bad("model_id is missing");
  absl::StatusOr<std::string> id = StringField(*model_id, "model_id");
  if (!id.ok()) return id.status();
  event.set_model_id(*id);
  if (const Value* timestamp = Find(*object, {"timestamp"})) {
    if (absl::Status set = SetTimestamp(*timestamp, event); !set.ok()) return set;
  }
  if (const Value* count = Find(*object, {"count"})) {
    absl::StatusOr<int64_t> value = IntegerField(*count, "count");
    if (!value.ok()) return value.status();
    event.set_count(*value);
  }
  if (const Value* revision = Find(*object, {"revision"})) {
    absl::StatusOr<std::string> value = StringField(*revision, "revision");
    if (!value.ok()) return value.status();
    event.set_revision(*value);
  }
  return event;
}

absl::StatusOr<v1::ModelRecord> ParseRecordJson(absl::string_view line) {
  absl::StatusOr<Struct> object = ParseObject(line);
  if (!object.ok()) return object.status();
  v1::ModelRecord record;
  for (const char* column : kRecordColumns) {
    auto it = object->fields().find(column);
    if (it == object->fields().end() || it->second.kind_case() == Value::kNullValue) continue;
    std::string text;
    if (it->second.kind_case() == Value::kStringValue) {
      text = it->second.string_value();
    } else if (it->second.kind_case() == Value::kNumberValue &&
               absl::string_view(column) == "num_parameters") {
      absl::StatusOr<int64_t> value = IntegerField(it->second, column);
      if (!value.ok()) return value.status();
      text = absl::StrCat(*value);
    } else {
      return Bad(absl::StrCat(column, " must be a string"));
    }
    if (text.empty()) continue;
    if (absl::Status set = SetRecordField(column, text, record); !set.ok()) return set;
  }
  if (record.model_id().empty()) return Bad("model_id is missing");
  return record;
}

absl::StatusOr<RecordCsvReader> RecordCsvReader::FromHeader(absl::string_view header_line) {
  CsvSplitter splitter;
  if (!splitter.Feed(header_line, 1)) return Bad("the CSV header is not a complete line");
  RecordCsvReader reader;
  for (std::string& cell : splitter.Take().cells) {
    reader.columns_.push_back(std::string(absl::StripAsciiWhitespace(cell)));
  }
  bool has_id = false;
  for (const std::string& column : reader.columns_) {
    has_id |= column == "model_id" || column == "modelId";
  }
  if (!has_id) return Bad("the CSV header has no model_id (or modelId) column");
  return reader;
}

absl::StatusOr<v1::ModelRecord> RecordCsvReader::Parse(
    const std::vector<std::string>& cells) const {
  if (cells.size() != columns_.size()) {
    return Bad(absl::StrCat("has ", cells.size(), " cells, the header has ", columns_.size()));
  }
  v1::ModelRecord record;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (cells[i].empty()) continue;
    if (absl::Status set = SetRecordField(columns_[i], cells[i], record); !set.ok()) return set;
  }
  if (record.model_id().empty()) return Bad("model_id is empty");
  return record;
}

bool CsvSplitter::Feed(absl::string_view line, int line_number) {
  if (!started_) {
    current_ = CsvRecord{line_number, {}};
    started_ = true;
  } else {
    cell_ += '\n';  // A quoted field continues onto this line.
  }
  if (!in_quotes_ && !line.empty() && line.back() == '\r') line.remove_suffix(1);
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_quotes_) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cell_ += '"';
        ++i;
      } else if (c == '"') {
        in_quotes_ = false;
      } else {
        cell_ += c;
      }
    } else if (c == '"') {
      in_quotes_ = true;
    } else if (c == ',') {
      current_.cells.push_back(std::move(cell_));
      cell_.clear();
    } else {
      cell_ += c;
    }
  }
  if (in_quotes_) return false;
  current_.cells.push_back(std::move(cell_));
  cell_.clear();
  started_ = false;
  return true;
}

}  // namespace hubstats::cli
