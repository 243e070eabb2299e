#pragma once
// `orc dbt <anything>` outside stateful mode: dbt runs exactly as if called directly.
#include <string>
#include <vector>

namespace orc {

struct Config;

/// Runs `dbt <subcommand> <args...>` with orc's stdin/stdout/stderr, no shell in between, and
/// returns dbt's exit code unchanged. Throws orc::Error when dbt cannot be found or started.
int run_passthrough(const std::string& subcommand, const std::vector<std::string>& args,
                    const Config& config);

}  // namespace orc
