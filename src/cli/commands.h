#pragma once
// The commands the CLI dispatches to, beyond passthrough.
#include <string>
#include <vector>

namespace orc {

struct Config;

/// `orc dbt build|run|test ...` with use_stateful on: decide, run dbt on the BUILD set,
/// record state. With `plan_only` (`orc plan`), decide and report only. Returns the exit
/// code (dbt's when dbt ran).
/// `plan_json`: print the record instead of the table; `plan_quiet`: print neither (for
/// `orc explain --live`).
int run_stateful_command(const std::string& subcommand, const std::vector<std::string>& args,
                         const Config& config, bool plan_only = false, bool plan_json = false,
                         bool plan_quiet = false);

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

/// `orc state show|export|import|forget|prune ...` on the configured state store.
int run_state_command(const std::vector<std::string>& args, const Config& config);

/// `orc explain <pattern>...`: why each matched node was built or reused in the last run,
/// from its orc_decisions.json (no dbt).
int run_explain_command(const std::vector<std::string>& args, const Config& config);

/// `orc dag --html FILE [--open]`: the last run's DAG as one self-contained HTML page.
int run_dag_command(const std::vector<std::string>& args, const Config& config);

}  // namespace orc
