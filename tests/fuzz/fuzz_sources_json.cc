// libFuzzer target: sources.json from `dbt source freshness` (src/dbt/sources_json.cc).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "dbt/sources_json.h"

/// libFuzzer entry point: parses `data` as sources.json.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    orc::parse_sources_json(text, "fuzz/sources.json");
  } catch (const orc::Error&) {
  }
  return 0;
}
