# Script mode: writes OUTPUT, a C++ file defining SYMBOL as a string_view of INPUT's bytes.
file(READ ${INPUT} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${content}")
file(WRITE ${OUTPUT}
  "// Generated from ${INPUT}; do not edit.\n#include <string_view>\n"
  "namespace hubstats::embedded {\nstatic const char ${SYMBOL}_data[] = {${bytes} 0};\n"
  "extern const std::string_view ${SYMBOL}(${SYMBOL}_data, sizeof(${SYMBOL}_data) - 1);\n}\n")
