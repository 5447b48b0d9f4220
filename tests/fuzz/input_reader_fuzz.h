// The JSON-lines and CSV fuzz targets: a file of arbitrary bytes through the CLI's input rules
// (client/cli/input.h), items converted to events or records as the CLI would send them.
#ifndef HUBSTATS_TESTS_FUZZ_INPUT_READER_FUZZ_H_
#define HUBSTATS_TESTS_FUZZ_INPUT_READER_FUZZ_H_

#include <cstddef>
#include <cstdint>

#include "input.h"

namespace hubstats::fuzz {

// The first byte picks events or records; the rest is the file. Invariants: items come in
// line order, from line 1 to at most the number of lines; an item is an error or fields, and
// an error names a reason.
void ReadInput(cli::InputFormat format, const uint8_t* data, size_t size);

}  // namespace hubstats::fuzz

#endif  // HUBSTATS_TESTS_FUZZ_INPUT_READER_FUZZ_H_
