// libFuzzer target: the pyproject.toml reader (src/config/config.cc): TOML parsing with
// toml++, [tool.orchestra_dbt] validation and the state location it names.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.h"
#include "core/error.h"

namespace {

/// A private directory holding the pyproject.toml under test (made once per process).
const std::filesystem::path& fuzz_dir() {
  static const std::filesystem::path dir = [] {
    char tmpl[] = "/tmp/orc-fuzz-config-XXXXXX";
    if (!mkdtemp(tmpl)) std::abort();
    return std::filesystem::path(tmpl);
  }();
  return dir;
}

}  // namespace

/// libFuzzer entry point: writes `data` as pyproject.toml and loads the configuration.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& dir = fuzz_dir();
  {
    std::ofstream out(dir / "pyproject.toml", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    orc::Config config = orc::load_config(dir, orc::Environment{}, dir);
  } catch (const orc::Error&) {
  }
  return 0;
}
