#include "dbt/dbt_invoker.h"

#include <fmt/format.h>
#include <fstream>

#include "core/error.h"
#include "core/log.h"
#include "dbt/dbt_driver.h"
#include "dbt/dbt_process_runner.h"
#include "dbt/script_interpreter.h"

namespace orc {

std::string describe_invocation(const std::vector<std::string>& args) {
  std::string line = "dbt";
  for (const auto& a : args) {
    line += ' ';
    line += a.size() > 200 ? a.substr(0, 200) + "..." : a;
  }
  return line;
}

namespace {

/// The first bytes of `path` (enough for a script's header lines).
std::string head_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  return head;
}

}  // namespace

std::unique_ptr<DbtInvoker> open_dbt(const Environment& env, const std::filesystem::path& cwd,
                                     std::vector<std::string> project_args) {
  std::string exe = find_dbt_executable(env);
  const std::string mode = env.get("ORC_DBT_MODE").value_or("");
  if (!mode.empty() && mode != "driver" && mode != "process")
    throw Error(fmt::format("ORC_DBT_MODE={} is not a dbt mode; expected `driver` (one dbt "
                            "process per run, the default) or `process`",
                            mode));
  if (mode == "process") {
    log_debug("ORC_DBT_MODE=process: one dbt process per invocation");
    return std::make_unique<DbtProcessRunner>(exe, cwd);
  }
  auto python = python_of_script(head_of(exe));
  if (!python) {
    log_debug("{} is not a Python console script: one dbt process per invocation", exe);
    return std::make_unique<DbtProcessRunner>(exe, cwd);
  }
  return std::make_unique<DbtDriver>(std::move(*python), exe, cwd, std::move(project_args));
}

}  // namespace orc
