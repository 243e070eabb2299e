#pragma once
// How orc talks to dbt during a run: one call per dbt invocation (`ls`, `show --inline`, the
// build). Two implementations: the driver (one Python process for the whole run, dbt_driver.h)
// and the process runner (one dbt process per invocation, dbt_process_runner.h); unit tests of
// the workflow use an in-memory fake. See docs/design.md, "One dbt process per run".
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/environment.h"
#include "core/process.h"

namespace orc {

/// One process orc started for dbt during a run, and the dbt invocations made inside it.
struct DbtProcessRecord {
  std::string mode;                      ///< "driver" (one Python process) or "process"
  std::vector<std::string> invocations;  ///< "dbt <args>" per invocation, in order
  std::string note;                      ///< e.g. why a driver could not be used; may be empty
};

/// Runs dbt invocations for one orc run and records the processes it started.
class DbtInvoker {
 public:
  virtual ~DbtInvoker() = default;
  /// Runs `dbt <args>` capturing stdout and stderr (dbt's exit code in `exit_code`).
  virtual ProcessResult capture(const std::vector<std::string>& args) = 0;
  /// Runs `dbt <args>` with orc's stdout/stderr (the user sees dbt's own output); returns
  /// dbt's exit code.
  virtual int run(const std::vector<std::string>& args) = 0;
  /// Every process started so far, with the invocations made inside each.
  virtual std::vector<DbtProcessRecord> processes() const = 0;
};

/// "dbt <args>" for logs and orc_decisions.json (very long arguments, such as an inline
/// query, are shortened).
std::string describe_invocation(const std::vector<std::string>& args);

/// The invoker for a run started in `cwd`: the driver (dbt's own Python interpreter, parsing
/// the project once with `project_args`) when the dbt executable is a Python dbt-core 1.x
/// console script and ORC_DBT_MODE is not `process`; else one process per invocation.
/// Throws orc::Error when there is no dbt executable.
std::unique_ptr<DbtInvoker> open_dbt(const Environment& env, const std::filesystem::path& cwd,
                                     std::vector<std::string> project_args);

}  // namespace orc
