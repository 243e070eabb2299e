#pragma once
// One dbt process per invocation: the fallback when the driver cannot be used (a dbt that is
// not a Python dbt-core, ORC_DBT_MODE=process). Every process pays dbt's start-up and parse.
#include <filesystem>
#include <string>
#include <vector>

#include "dbt/dbt_invoker.h"

namespace orc {

/// Starts `dbt <args>` as a separate process per invocation.
class DbtProcessRunner : public DbtInvoker {
 public:
  /// `exe`: the dbt executable; `cwd`: where orc was started (dbt resolves paths from there).
  DbtProcessRunner(std::string exe, std::filesystem::path cwd);

  ProcessResult capture(const std::vector<std::string>& args) override;
  int run(const std::vector<std::string>& args) override;
  std::vector<DbtProcessRecord> processes() const override { return processes_; }

 private:
  /// The argv of `dbt <args>`, recorded as a new process.
  std::vector<std::string> argv_for(const std::vector<std::string>& args);
  std::string exe_;
  std::filesystem::path cwd_;
  std::vector<DbtProcessRecord> processes_;
};

}  // namespace orc
