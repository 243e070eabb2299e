#include "dbt/dbt_runner.h"

#include "core/log.h"

namespace orc {

DbtRunner::DbtRunner(std::string exe, std::filesystem::path cwd)
    : exe_(std::move(exe)), cwd_(std::move(cwd)) {}

std::vector<std::string> DbtRunner::argv_for(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {exe_};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string line = "dbt";
  for (const auto& a : args) {
    line += ' ';
    line += a.size() > 200 ? a.substr(0, 200) + "..." : a;
  }
  commands_.push_back(line);
  log_debug("starting dbt process #{}: {}", commands_.size(), line);
  return argv;
}

ProcessResult DbtRunner::capture(const std::vector<std::string>& args) {
  ProcessOptions opts;
  opts.cwd = cwd_;
  opts.capture_stdout = true;
  opts.capture_stderr = true;
  return run_process(argv_for(args), opts);
}

int DbtRunner::run(const std::vector<std::string>& args) {
  ProcessOptions opts;
  opts.cwd = cwd_;
  return run_process(argv_for(args), opts).exit_code;
}

}  // namespace orc
