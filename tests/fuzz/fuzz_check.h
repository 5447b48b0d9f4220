// What the fuzz targets share: an invariant check that aborts (so libFuzzer keeps the input
// that broke it) with a message, in every build type.
#ifndef HUBSTATS_TESTS_FUZZ_FUZZ_CHECK_H_
#define HUBSTATS_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                                \
  do {                                                                                       \
    if (!(condition)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (false)

#endif  // HUBSTATS_TESTS_FUZZ_FUZZ_CHECK_H_
