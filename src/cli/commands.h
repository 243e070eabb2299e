#pragma once
// The commands the CLI dispatches to, beyond passthrough.
#include <string>
#include <vector>

namespace orc {

struct Config;

/// `orc dbt build|run|test ...` with use_stateful on: decide, run dbt on the BUILD set,
/// record state. With `plan_only` (`orc plan`), decide and report only. Returns the exit
/// code (dbt's when dbt ran).
int run_stateful_command(const std::string& subcommand, const std::vector<std::string>& args,
                         const Config& config, bool plan_only = false, bool plan_json = false);

/// `orc plan [build|run|test] [--output table|json] [dbt args]`: the real decision against the
/// real warehouse and state, without building anything or writing state. Returns the exit
/// code.
int run_live_plan_command(const std::vector<std::string>& args, const Config& config);

/// `orc dbt orchestra plan ...`: the pure engine on given artifact files, without dbt
/// (benchmarks, dry runs). Returns the exit code.
int run_plan_command(const std::vector<std::string>& args, const Config& config);

/// `orc dbt orchestra save-state <updates.json>`: merges the given entries into the configured
/// state store through the same save path as a real run (used by concurrency tests).
int run_save_state_command(const std::vector<std::string>& args, const Config& config);

}  // namespace orc
