#include "input_reader_fuzz.h"

#include <algorithm>
#include <sstream>
#include <string>

#include "fuzz_check.h"

namespace hubstats::fuzz {

void ReadInput(cli::InputFormat format, const uint8_t* data, size_t size) {
  if (size == 0) return;
  const cli::ItemKind kind = data[0] & 1 ? cli::ItemKind::kRecord : cli::ItemKind::kEvent;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
  std::istringstream stream(text);
  // A small item limit so long lines take the "too long" path too.
  auto reader = cli::InputReader::Open(stream, format, kind, 256);
  if (!reader.ok()) {
    FUZZ_CHECK(!reader.status().message().empty());
    return;
  }
  cli::InputItem item;
  int last_line = 0;
  while ((*reader)->Next(item)) {
    FUZZ_CHECK(item.line >= 1 && item.line <= lines);
    FUZZ_CHECK(item.line >= last_line);
    last_line = item.line;
    if (!item.error.ok()) {
      FUZZ_CHECK(!item.error.message().empty());
      FUZZ_CHECK(item.fields.empty() || format == cli::InputFormat::kJsonLines);
      continue;
    }
    if (kind == cli::ItemKind::kEvent) {
      (void)cli::EventFromFields(item.fields);
    } else {
      (void)cli::RecordFromFields(item.fields);
    }
  }
}

}  // namespace hubstats::fuzz
