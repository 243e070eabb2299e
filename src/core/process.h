#pragma once
// Starting dbt: argv as a vector (no shell), stdio inherited or captured, signals forwarded.
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/environment.h"

namespace orc {

struct ProcessOptions {
  std::optional<std::filesystem::path> cwd;                    ///< default: orc's own cwd
  std::vector<std::pair<std::string, std::string>> extra_env;  ///< set/override in the child
  bool capture_stdout = false;  ///< else inherited
  bool capture_stderr = false;  ///< else inherited
};

struct ProcessResult {
  int exit_code = 0;  ///< the child's exit code, or 128+signal when it was killed
  std::string stdout_text;
  std::string stderr_text;
};

/// Runs `argv` (argv[0] is a path or a name looked up on PATH) and waits for it. While it
/// runs, SIGINT/SIGTERM sent to orc are forwarded to it (a terminal's Ctrl-C, which reaches
/// the child directly, is not sent twice). Throws orc::Error when it cannot be started.
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

/// True once orc has received SIGINT or SIGTERM (so callers can stop after the child ends).
bool interrupt_received();
/// The signal received (SIGINT/SIGTERM), or 0.
int interrupt_signal();

/// The dbt executable: $ORC_DBT when set, else `dbt` found on PATH. Throws orc::Error with a
/// clear message when there is none.
std::string find_dbt_executable(const Environment& env);

}  // namespace orc
