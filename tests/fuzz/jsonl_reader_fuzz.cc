// libFuzzer target: JSON lines through the CLI's input rules.
#include "input_reader_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  hubstats::fuzz::ReadInput(hubstats::cli::InputFormat::kJsonLines, data, size);
  return 0;
}
