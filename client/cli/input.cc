#include "input.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/command_line.h"
#include "common/enum_names.h"
#include "core/field_error.h"
#include "core/size_class.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace hubstats::cli {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// A key of an item: its canonical name and the other name it may go by.
struct Key {
  const char* name;
  const char* alias;
};
constexpr Key kEventKeys[] = {
    {"model_id", nullptr}, {"timestamp", nullptr}, {"count", nullptr}, {"revision", nullptr}};
constexpr Key kRecordKeys[] = {{"model_id", "modelId"},   {"pipeline_tag", nullptr},
                               {"modality", nullptr},     {"num_parameters", nullptr},
                               {"architecture", nullptr}, {"library_name", "library"}};

absl::Span<const Key> KeysFor(ItemKind kind) {
  if (kind == ItemKind::kEvent) return kEventKeys;
  return kRecordKeys;
}

// The canonical name of `key`, or nullopt when items of `kind` do not take it.
std::optional<std::string> CanonicalKey(ItemKind kind, absl::string_view key) {
  for (const Key& each : KeysFor(kind)) {
    if (key == each.name || (each.alias != nullptr && key == each.alias)) return each.name;
  }
  return std::nullopt;
}

absl::Status UnknownKey(ItemKind kind, absl::string_view key, absl::string_view what) {
  return InvalidFieldError(key, absl::StrCat("unknown ", what, "; expected ", KeysOf(kind)));
}

// Adds `key` (already canonical) unless it is there, under this or its other name.
absl::Status AddField(InputFields& fields, const std::string& key, absl::string_view given,
                      InputValue value) {
  for (const auto& [existing, unused] : fields) {
    if (existing == key) return InvalidFieldError(given, "is given twice (also by another name)");
  }
  fields.emplace_back(key, std::move(value));
  return absl::OkStatus();
}

absl::Status JsonFields(absl::string_view line, ItemKind kind, InputFields& fields) {
  Struct object;
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      std::string(line.data(), line.size()), &object, google::protobuf::util::JsonParseOptions());
  if (!parsed.ok()) {
    // The parser's message continues with an excerpt of the input on further lines.
    const std::string message(parsed.message());
    return absl::InvalidArgumentError(
        absl::StrCat("not a JSON object: ", message.substr(0, message.find('\n'))));
  }
  // Sorted, so the first unknown key reported does not depend on the map's order.
  std::vector<std::string> keys;
  for (const auto& [key, unused] : object.fields()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  for (const std::string& key : keys) {
    std::optional<std::string> canonical = CanonicalKey(kind, key);
    if (!canonical) return UnknownKey(kind, key, "key");
    const Value& value = object.fields().at(key);
    InputValue field;
    switch (value.kind_case()) {
      case Value::kNullValue:
        continue;  // Left out.
      case Value::kStringValue:
        field.text = value.string_value();
        break;
      case Value::kNumberValue:
        field.type = InputValue::Type::kNumber;
        field.number = value.number_value();
        break;
      default:
        field.type = InputValue::Type::kOther;
        break;
    }
    if (absl::Status added = AddField(fields, *canonical, key, std::move(field)); !added.ok()) {
      return added;
    }
  }
  return absl::OkStatus();
}

const InputValue* Find(const InputFields& fields, absl::string_view key) {
  for (const auto& [name, value] : fields) {
    if (name == key) return &value;
  }
  return nullptr;
}

absl::StatusOr<std::string> Text(const InputValue& value, absl::string_view field) {
  if (value.type != InputValue::Type::kText) return InvalidFieldError(field, "must be a string");
  return value.text;
}

// The number a value stands for: a JSON number, or a CSV cell holding one.
std::optional<double> NumberOf(const InputValue& value) {
  if (value.type == InputValue::Type::kNumber) return value.number;
  double number = 0;
  if (value.type == InputValue::Type::kText && value.csv &&
      absl::SimpleAtod(absl::StripAsciiWhitespace(value.text), &number)) {
    return number;
  }
  return std::nullopt;
}

// JSON numbers arrive as doubles: exact for whole numbers up to 2^53, which covers every count
// and parameter count the server takes.
absl::StatusOr<int64_t> WholeNumber(const InputValue& value, absl::string_view field) {
  std::optional<double> number = NumberOf(value);
  if (!number || !std::isfinite(*number) || *number != std::floor(*number) ||
      std::fabs(*number) > 9007199254740991.0) {
    const std::string given = value.type == InputValue::Type::kNumber
                                  ? absl::StrCat(value.number)
                                  : absl::StrCat("'", value.text, "'");
    return InvalidFieldError(field, absl::StrCat("must be a whole number, got ", given));
  }
  return static_cast<int64_t>(*number);
}

absl::Status SetTimestamp(const InputValue& value, v1::DownloadEvent& event) {
  absl::Time time;
  if (std::optional<double> seconds = NumberOf(value)) {
    if (!std::isfinite(*seconds) || std::fabs(*seconds) > 1e11) {
      return InvalidFieldError("timestamp",
                               absl::StrCat(*seconds, " is not a plausible Unix time in seconds"));
    }
    time = absl::FromUnixMicros(static_cast<int64_t>(std::llround(*seconds * 1e6)));
  } else if (value.type == InputValue::Type::kText) {
    absl::StatusOr<absl::Time> parsed = ParseTimestampText(value.text);
    if (!parsed.ok()) return InvalidFieldError("timestamp", parsed.status().message());
    time = *parsed;
  } else {
    return InvalidFieldError("timestamp",
                             "must be an RFC 3339 time, a YYYY-MM-DD date or Unix seconds");
  }
  const int64_t seconds = absl::ToUnixSeconds(time);
  event.mutable_timestamp()->set_seconds(seconds);
  event.mutable_timestamp()->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
  return absl::OkStatus();
}

// Reads `count` digits at text[*at], advancing; false when they are not all digits.
bool Digits(absl::string_view text, size_t* at, size_t count, int64_t* value) {
  if (*at + count > text.size()) return false;
  *value = 0;
  for (size_t i = 0; i < count; ++i) {
    const char c = text[*at + i];
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    *value = *value * 10 + (c - '0');
  }
  *at += count;
  return true;
}

bool Expect(absl::string_view text, size_t* at, absl::string_view allowed) {
  if (*at >= text.size() || allowed.find(text[*at]) == absl::string_view::npos) return false;
  ++*at;
  return true;
}

}  // namespace

absl::StatusOr<InputFormat> ChooseFormat(absl::string_view path, absl::string_view format_option) {
  const std::string option = absl::AsciiStrToLower(format_option);
  if (!option.empty()) {
    if (option == "jsonl" || option == "json" || option == "ndjson") return InputFormat::kJsonLines;
    if (option == "csv") return InputFormat::kCsv;
    return absl::InvalidArgumentError(
        absl::StrCat("--format must be jsonl or csv, got '", format_option, "'"));
  }
  const std::string lower = absl::AsciiStrToLower(path);
  for (const char* extension : {".jsonl", ".ndjson", ".json"}) {
    if (absl::EndsWith(lower, extension)) return InputFormat::kJsonLines;
  }
  if (absl::EndsWith(lower, ".csv")) return InputFormat::kCsv;
  return absl::InvalidArgumentError(
      absl::StrCat("cannot tell the format of '", path,
                   "' from its extension (.jsonl, .ndjson, .json or .csv); give --format "
                   "jsonl or --format csv"));
}

std::string KeysOf(ItemKind kind) {
  std::vector<std::string> names;
  for (const Key& key : KeysFor(kind)) {
    names.push_back(key.alias == nullptr ? key.name
                                         : absl::StrCat(key.name, " (or ", key.alias, ")"));
  }
  return absl::StrJoin(names, ", ");
}

InputReader::InputReader(std::istream& input, InputFormat format, ItemKind kind,
                         size_t max_item_bytes)
    : format_(format),
      kind_(kind),
      max_item_bytes_(max_item_bytes),
      lines_(input, max_item_bytes),
      csv_(input, max_item_bytes) {}

absl::StatusOr<std::unique_ptr<InputReader>> InputReader::Open(std::istream& input,
                                                               InputFormat format, ItemKind kind,
                                                               size_t max_item_bytes) {
  std::unique_ptr<InputReader> reader(new InputReader(input, format, kind, max_item_bytes));
  if (format != InputFormat::kCsv) return reader;
  CsvRecord header;
  if (!reader->csv_.Next(header)) return reader;  // An empty file: no items.
  auto header_error = [&](absl::string_view reason) {
    return absl::InvalidArgumentError(absl::StrCat("line ", header.line, ": ", reason));
  };
  if (!header.error.ok()) return header_error(header.error.message());
  bool has_id = false;
  for (const std::string& cell : header.cells) {
    const std::string column(absl::StripAsciiWhitespace(cell));
    std::optional<std::string> canonical = CanonicalKey(kind, column);
    if (!canonical) {
      return header_error(absl::StrCat("unknown column '", column, "'; expected ", KeysOf(kind)));
    }
    if (std::find(reader->columns_.begin(), reader->columns_.end(), *canonical) !=
        reader->columns_.end()) {
      return header_error(absl::StrCat("column '", column, "' is given twice"));
    }
    has_id |= *canonical == "model_id";
    reader->columns_.push_back(*std::move(canonical));
  }
  if (!has_id) return header_error("the header has no model_id column");
  return reader;
}

bool InputReader::Next(InputItem& item) {
  item = InputItem();
  if (format_ == InputFormat::kCsv) {
    CsvRecord record;
    if (!csv_.Next(record)) return false;
    item.line = record.line;
    if (!record.error.ok()) {
      item.error = record.error;
      return true;
    }
    if (record.cells.size() != columns_.size()) {
      item.error = absl::InvalidArgumentError(
          absl::StrCat("has ", record.cells.size(), " cells, the header has ", columns_.size()));
      return true;
    }
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (record.cells[i].empty()) continue;  // Left out.
      item.fields.emplace_back(columns_[i],
                               InputValue{.text = std::move(record.cells[i]), .csv = true});
    }
    return true;
  }
  PhysicalLine line;
  while (lines_.Next(line)) {
    if (absl::StripAsciiWhitespace(line.text).empty()) continue;
    item.line = line.number;
    if (line.length > static_cast<int64_t>(max_item_bytes_)) {
      item.error = absl::InvalidArgumentError(
          absl::StrCat("the line is ", client::HumanBytes(line.length), ", more than the ",
                       client::HumanBytes(max_item_bytes_), " one item may hold"));
    } else {
      item.error = JsonFields(line.text, kind_, item.fields);
    }
    return true;
  }
  return false;
}

absl::StatusOr<v1::DownloadEvent> EventFromFields(const InputFields& fields) {
  v1::DownloadEvent event;
  const InputValue* model_id = Find(fields, "model_id");
  if (model_id == nullptr) return InvalidFieldError("model_id", "is missing");
  absl::StatusOr<std::string> id = Text(*model_id, "model_id");
  if (!id.ok()) return id.status();
  event.set_model_id(*std::move(id));
  if (const InputValue* timestamp = Find(fields, "timestamp")) {
    if (absl::Status set = SetTimestamp(*timestamp, event); !set.ok()) return set;
  }
  if (const InputValue* count = Find(fields, "count")) {
    absl::StatusOr<int64_t> value = WholeNumber(*count, "count");
    if (!value.ok()) return value.status();
    event.set_count(*value);
  }
  if (const InputValue* revision = Find(fields, "revision")) {
    absl::StatusOr<std::string> value = Text(*revision, "revision");
    if (!value.ok()) return value.status();
    event.set_revision(*std::move(value));
  }
  return event;
}

absl::StatusOr<v1::ModelRecord> RecordFromFields(const InputFields& fields) {
  v1::ModelRecord record;
  for (const auto& [key, value] : fields) {
    if (key == "num_parameters") {
      absl::StatusOr<int64_t> parameters =
          value.type == InputValue::Type::kNumber
              ? WholeNumber(value, key)
              : (value.type == InputValue::Type::kText
                     ? ParseParameters(value.text, key)
                     : absl::StatusOr<int64_t>(InvalidFieldError(
                           key, "must be a number or a text such as 7B or 110M")));
      if (!parameters.ok()) return parameters.status();
      record.set_num_parameters(*parameters);
      continue;
    }
    absl::StatusOr<std::string> text = Text(value, key);
    if (!text.ok()) return text.status();
    if (key == "model_id") {
      record.set_model_id(*text);
    } else if (key == "pipeline_tag") {
      record.set_pipeline_tag(*text);
    } else if (key == "library_name") {
      record.set_library_name(*text);
    } else if (key == "modality") {
      if (text->empty()) continue;
      absl::StatusOr<v1::Modality> modality = client::ParseModality(*text);
      if (!modality.ok()) return InvalidFieldError(key, modality.status().message());
      record.set_modality(*modality);
    } else if (key == "architecture") {
      absl::StatusOr<v1::Architecture> architecture = client::ParseArchitecture(*text);
      if (!architecture.ok()) return InvalidFieldError(key, architecture.status().message());
      record.set_architecture(*architecture);
    }
  }
  if (Find(fields, "model_id") == nullptr) return InvalidFieldError("model_id", "is missing");
  return record;
}

absl::StatusOr<absl::Time> ParseTimestampText(absl::string_view original) {
  const absl::string_view text = absl::StripAsciiWhitespace(original);
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("'", original,
                     "' is not an RFC 3339 time (e.g. 2024-09-20T12:00:00Z), a YYYY-MM-DD date "
                     "or Unix seconds"));
  };
  size_t at = 0;
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(text, &at, 4, &year) || !Expect(text, &at, "-") || !Digits(text, &at, 2, &month) ||
      !Expect(text, &at, "-") || !Digits(text, &at, 2, &day)) {
    return bad();
  }
  const absl::CivilDay civil_day(year, month, day);
  if (civil_day.year() != year || civil_day.month() != month || civil_day.day() != day) {
    return bad();
  }
  if (at == text.size()) return absl::FromCivil(civil_day, absl::UTCTimeZone());
  if (!Expect(text, &at, "Tt ") || !Digits(text, &at, 2, &hour) || !Expect(text, &at, ":") ||
      !Digits(text, &at, 2, &minute) || !Expect(text, &at, ":") || !Digits(text, &at, 2, &second) ||
      hour > 23 || minute > 59 || second > 59) {
    return bad();
  }
  absl::Duration fraction = absl::ZeroDuration();
  if (at < text.size() && text[at] == '.') {
    ++at;
    const size_t first = at;
    int64_t nanos = 0, scale = 100'000'000;
    while (at < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[at]))) {
      nanos += (text[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == first) return bad();
    fraction = absl::Nanoseconds(nanos);
  }
  absl::Duration offset = absl::ZeroDuration();  // No offset: UTC.
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    const int sign = text[at] == '-' ? -1 : 1;
    ++at;
    int64_t offset_hours = 0, offset_minutes = 0;
    if (!Digits(text, &at, 2, &offset_hours) || !Expect(text, &at, ":") ||
        !Digits(text, &at, 2, &offset_minutes) || offset_hours > 23 || offset_minutes > 59) {
      return bad();
    }
    offset = sign * (absl::Hours(offset_hours) + absl::Minutes(offset_minutes));
  }
  if (at != text.size()) return bad();
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                         absl::UTCTimeZone()) -
         offset + fraction;
}

}  // namespace hubstats::cli
