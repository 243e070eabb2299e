// libFuzzer target: the SQL/Jinja normaliser and the var()/env_var() extraction behind the
// fingerprint's `code`, `vars` and `env_vars` (src/plan/code_normalizer.cc).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "plan/code_normalizer.h"

/// libFuzzer entry point: normalises `data` as SQL and as Python, extracts references and
/// scans for clock/randomness. Normalising never adds bytes and a Python model is verbatim.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view code(reinterpret_cast<const char*>(data), size);
  std::string sql = orc::normalize_code(code, "sql");
  if (sql.size() > code.size()) __builtin_trap();
  if (orc::normalize_code(code, "python") != code) __builtin_trap();
  orc::CodeReferences refs;
  orc::collect_references(code, refs);
  orc::collect_references(sql, refs);
  orc::reads_clock_or_randomness(code);
  return 0;
}
