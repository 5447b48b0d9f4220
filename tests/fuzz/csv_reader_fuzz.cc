// libFuzzer target: CSV through the CLI's input rules (header, quoting, records over lines).
#include "input_reader_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  hubstats::fuzz::ReadInput(hubstats::cli::InputFormat::kCsv, data, size);
  return 0;
}
