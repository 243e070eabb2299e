#pragma once
// The dbt driver: one Python process per orc run, in dbt's own interpreter, running every
// invocation of the run through dbt's programmatic API with the project parsed once
// (docs/design.md, "One dbt process per run"). The Python side is src/dbt/dbt_driver.py,
// embedded in the binary.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/process.h"
#include "core/temp_dir.h"
#include "dbt/dbt_invoker.h"
#include "dbt/dbt_process_runner.h"

namespace orc {

/// Runs dbt invocations in one driver process started on first use. When the driver cannot
/// start (dbt-core not importable in that interpreter, not 1.x) or dies without being
/// interrupted, the remaining invocations run as separate processes (`fallback`), and the
/// records say why.
class DbtDriver : public DbtInvoker {
 public:
  /// `python`: the command that runs dbt's interpreter (python_of_script); `dbt_exe`: the dbt
  /// executable for the fallback; `project_args`: the arguments that shape parsing, the key
  /// under which the driver keeps the parsed manifest.
  DbtDriver(std::vector<std::string> python, std::string dbt_exe, std::filesystem::path cwd,
            std::vector<std::string> project_args);
  ~DbtDriver() override;

  ProcessResult capture(const std::vector<std::string>& args) override;
  int run(const std::vector<std::string>& args) override;
  std::vector<DbtProcessRecord> processes() const override;

 private:
  /// Starts the driver and reads its greeting; false when it is unavailable.
  bool start();
  /// One invocation in the driver; nullopt when the driver ended without answering (then
  /// `ended_code` holds its exit code).
  std::optional<int> invoke(const std::vector<std::string>& args, bool capture);
  /// The next line from the driver, or nullopt at end of file.
  std::optional<std::string> read_line();
  /// Writes `line` to the driver; false when it is gone.
  bool write_line(const std::string& line);
  /// Ends the driver (closes its request pipe and waits).
  int stop();
  /// Says once that the rest of the run uses separate processes, and why.
  void report_fallback();

  std::vector<std::string> python_;
  std::filesystem::path cwd_;
  std::vector<std::string> project_args_;
  DbtProcessRunner fallback_;
  bool tried_ = false;      ///< start() was attempted
  bool usable_ = false;     ///< the driver answers invocations
  int ended_code_ = 0;      ///< the driver's exit code once it ended
  bool sent_ = false;       ///< the last invocation reached the driver
  bool fallback_reported_ = false;
  ChildProcess child_;
  int request_fd_ = -1;     ///< orc writes requests here
  int reply_fd_ = -1;       ///< and reads replies here
  std::string pending_;     ///< reply bytes read past the last line
  std::optional<TempDir> capture_dir_;
  DbtProcessRecord record_{"driver", {}, {}};
};

}  // namespace orc
