// libFuzzer target: the dbt argument parser and rewriter (src/dbt/dbt_args.cc). The input is
// split at NUL/newline into arguments; the first one is the subcommand.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "dbt/dbt_args.h"

/// libFuzzer entry point: parses the arguments and builds every command line orc derives.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args(1);
  for (size_t i = 0; i < size; ++i) {
    char c = static_cast<char>(data[i]);
    if (c == '\0' || c == '\n') args.emplace_back();
    else args.back().push_back(c);
  }
  std::string subcommand = args.front();
  args.erase(args.begin());
  orc::Environment env;
  env.vars["DBT_FULL_REFRESH"] = size % 2 ? "true" : "0";
  try {
    orc::DbtArgs parsed = orc::parse_dbt_args(args, env);
    orc::ls_arguments(subcommand, parsed);
    orc::run_arguments(subcommand, parsed, "/tmp/orc-private-state", env);
    orc::project_arguments(parsed);
  } catch (const orc::Error&) {
  }
  return 0;
}
