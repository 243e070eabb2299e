#pragma once
// Starts dbt processes for orc, with the user's project settings, and counts them: every dbt
// process costs seconds of Python start-up and parsing.
#include <filesystem>
#include <string>
#include <vector>

#include "core/process.h"

namespace orc {

class DbtRunner {
 public:
  /// `exe`: the dbt executable; `cwd`: where orc was started (dbt resolves paths from there).
  DbtRunner(std::string exe, std::filesystem::path cwd);

  /// Runs `dbt <args>` capturing stdout and stderr.
  ProcessResult capture(const std::vector<std::string>& args);
  /// Runs `dbt <args>` with orc's stdio (the user sees dbt's own output).
  int run(const std::vector<std::string>& args);

  /// The dbt command lines started so far (for debug output and orc_decisions.json).
  const std::vector<std::string>& commands() const { return commands_; }

 private:
  std::vector<std::string> argv_for(const std::vector<std::string>& args);
  std::string exe_;
  std::filesystem::path cwd_;
  std::vector<std::string> commands_;
};

}  // namespace orc
