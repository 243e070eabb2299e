#pragma once
// orc's command line: `orc dbt <subcommand> [args...]`, `orc --version`, `orc --help`.
#include <string>
#include <vector>

namespace orc {

struct Config;

/// The one-line usage and a pointer to --help, printed with every usage error.
std::string usage_line();
/// The full `orc --help` text: commands, environment variables, configuration keys.
std::string help_text();

/// Runs orc with its arguments (argv without argv[0]) and returns the exit code. Throws
/// orc::UsageError for a bad command line (exit 2) and orc::Error for other failures.
int run_cli(const std::vector<std::string>& args);

/// `orc dbt <subcommand> <args...>` with a loaded configuration: `orchestra` commands,
/// stateful build/run/test when use_stateful is on, passthrough otherwise.
int dispatch_dbt(const std::string& subcommand, const std::vector<std::string>& args,
                 const Config& config);

}  // namespace orc
