#include "cli/passthrough.h"

#include "config/config.h"
#include "core/log.h"
#include "core/process.h"

namespace orc {

int run_passthrough(const std::string& subcommand, const std::vector<std::string>& args,
                    const Config& config) {
  std::vector<std::string> argv = {find_dbt_executable(config.env), subcommand};
  argv.insert(argv.end(), args.begin(), args.end());
  log_debug("passthrough: {} {} ({} more arguments)", argv[0], subcommand, args.size());
  return run_process(argv).exit_code;
}

}  // namespace orc
