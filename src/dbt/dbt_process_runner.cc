#include "dbt/dbt_process_runner.h"

#include "core/log.h"

namespace orc {

DbtProcessRunner::DbtProcessRunner(std::string exe, std::filesystem::path cwd)
    : exe_(std::move(exe)), cwd_(std::move(cwd)) {}

std::vector<std::string> DbtProcessRunner::argv_for(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {exe_};
  argv.insert(argv.end(), args.begin(), args.end());
  processes_.push_back({"process", {describe_invocation(args)}, {}});
  log_debug("starting dbt process #{}: {}", processes_.size(), processes_.back().invocations[0]);
  return argv;
}

ProcessResult DbtProcessRunner::capture(const std::vector<std::string>& args) {
  ProcessOptions opts;
  opts.cwd = cwd_;
  opts.capture_stdout = true;
  opts.capture_stderr = true;
  return run_process(argv_for(args), opts);
}

int DbtProcessRunner::run(const std::vector<std::string>& args) {
  ProcessOptions opts;
  opts.cwd = cwd_;
  return run_process(argv_for(args), opts).exit_code;
}

}  // namespace orc
