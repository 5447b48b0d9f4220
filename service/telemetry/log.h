// Logger: one line per event, with a level, the time, a message and key=value fields, as text
// for people or JSON for log collectors (`--log-format text|json`).
//
//   text: 2024-09-01T12:00:00.123Z INFO hubstats-server: store answers: SERVING shards=16
//   json: {"time":"2024-09-01T12:00:00.123Z","level":"info","logger":"hubstats-server",
//          "msg":"store answers: SERVING","shards":16}
//
// Time is UTC with milliseconds. In text, a field value with spaces, quotes or `=` is quoted
// and escaped; in JSON every string is escaped and bytes that are not UTF-8 become U+FFFD, so
// every line parses. Secrets given to `Redact` (a Redis password) are replaced by `***` in
// messages and field values, whatever code produced them.
//
// Thread-safe: each line is written whole with one call, under a mutex.
#ifndef HUBSTATS_SERVICE_TELEMETRY_LOG_H_
#define HUBSTATS_SERVICE_TELEMETRY_LOG_H_

#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hubstats::telemetry {

enum class LogLevel { kDebug, kInfo, kWarning, kError };
enum class LogFormat { kText, kJson };

// "text" or "json"; nullopt for anything else.
std::optional<LogFormat> ParseLogFormat(std::string_view name);

// One key=value of a line. Keys are [a-z0-9_]; numbers stay numbers in JSON.
struct LogField {
  LogField(std::string_view key, std::string_view value) : key(key), value(value) {}
  LogField(std::string_view key, const char* value) : key(key), value(value) {}
  LogField(std::string_view key, const std::string& value) : key(key), value(value) {}
  LogField(std::string_view key, int64_t value)
      : key(key), value(std::to_string(value)), number(true) {}
  LogField(std::string_view key, int value) : LogField(key, static_cast<int64_t>(value)) {}
  LogField(std::string_view key, uint64_t value)
      : key(key), value(std::to_string(value)), number(true) {}

  std::string key;
  std::string value;
  bool number = false;
};

class Logger {
 public:
  // Writes to `out` (not owned, e.g. stderr), naming lines with `component`.
  Logger(std::FILE* out, LogFormat format, std::string component);

  void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});
  void Log(LogLevel level, std::string_view message, const std::vector<LogField>& fields);

  // From now on, `secret` (if not empty) is written as `***` wherever it appears.
  void Redact(std::string secret);

  // The line `Log` would write, without the newline (for tests).
  std::string Format(LogLevel level, std::string_view message,
                     const std::vector<LogField>& fields) const;

 private:
  std::string Scrub(std::string_view text) const;

  std::FILE* const out_;
  const LogFormat format_;
  const std::string component_;
  mutable std::mutex mutex_;
  std::vector<std::string> secrets_;
};

}  // namespace hubstats::telemetry

#endif  // HUBSTATS_SERVICE_TELEMETRY_LOG_H_
