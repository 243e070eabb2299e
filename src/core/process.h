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
  /// Extra descriptors the child gets: (descriptor number in the child, orc's descriptor).
  std::vector<std::pair<int, int>> pass_fds;
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

/// A started child process that orc waits for later (start_process). SIGINT/SIGTERM sent to
/// orc are forwarded to it while it is registered, as for run_process. Destroying a child
/// that was not waited for kills it (SIGKILL) and reaps it.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  /// Waits for the child to end; returns its exit code, or 128+signal when it was killed.
  int wait();
  bool running() const { return pid_ > 0; }
  int pid() const { return pid_; }

 private:
  friend ChildProcess start_process(const std::vector<std::string>&, const ProcessOptions&);
  int pid_ = 0;
  int slot_ = -1;
  std::string program_;
};

/// Starts `argv` without waiting. Capturing stdout/stderr is not supported here (use
/// run_process); `options.pass_fds` hands the child extra descriptors. Throws orc::Error when
/// it cannot be started.
ChildProcess start_process(const std::vector<std::string>& argv, const ProcessOptions& options);

/// True once orc has received SIGINT or SIGTERM (so callers can stop after the child ends).
bool interrupt_received();
/// The signal received (SIGINT/SIGTERM), or 0.
int interrupt_signal();
/// Forgets a received interrupt (for tests that run several workflows in one process).
void clear_interrupt();

/// The dbt executable: $ORC_DBT when set, else `dbt` found on PATH. Throws orc::Error with a
/// clear message when there is none.
std::string find_dbt_executable(const Environment& env);

}  // namespace orc
