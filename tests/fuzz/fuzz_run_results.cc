// libFuzzer target: run_results.json as dbt writes it (src/dbt/run_results.cc), read after
// every dbt run to decide which nodes get new state entries.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "dbt/run_results.h"

/// libFuzzer entry point: parses `data` as run_results.json and asks what did not run.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    orc::RunResults results = orc::parse_run_results(text, "fuzz/run_results.json");
    std::vector<std::string> ids;
    for (const auto& r : results.results) ids.push_back(r.unique_id);
    ids.push_back("model.p.absent");
    orc::not_run(ids, results.results);
  } catch (const orc::Error&) {
  }
  return 0;
}
