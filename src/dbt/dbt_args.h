#pragma once
// The user's dbt arguments, split by what they do: which ones select nodes (handed to
// `dbt ls` to resolve the selection exactly as dbt would), which ones set up the project
// (handed to every dbt process orc starts), and which ones only matter for the run itself.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/environment.h"

namespace orc {

/// What an option does, for the purpose of rewriting.
enum class ArgRole : uint8_t {
  Selection,  ///< --select/-s/-m, --exclude, --selector, --resource-type, --indirect-selection
  Project,    ///< project/profile/parser settings: every dbt process needs them
  State,      ///< --state: selection input for ls; defer source for the run
  Defer,      ///< --defer/--defer-state/--favor-state: ls and run
  RunOnly,    ///< everything else (--full-refresh, --threads, --empty, --fail-fast, ...)
};

/// One option with its values, as the user wrote it.
struct ArgGroup {
  ArgRole role;
  std::string name;                 ///< canonical long name, e.g. "--select"
  std::vector<std::string> tokens;  ///< original tokens (option + values)
  std::vector<std::string> values;
};

struct DbtArgs {
  std::vector<ArgGroup> groups;
  bool full_refresh = false;
  bool defer = false;
  bool has_resource_type = false;
  /// --empty / --sample: dbt builds placeholder data, which must never be recorded as state.
  bool placeholder_data = false;
  std::optional<std::string> project_dir, target_path, profiles_dir, target, state, defer_state;
  /// --threads N (a positive number; else unset): overrides the profile's threads.
  std::optional<int> threads;
};

/// A dbt thread count as written (`--threads 4`, `target.threads` rendered): a positive
/// decimal number below one million; nullopt for anything else.
std::optional<int> parse_thread_count(std::string_view text);

/// Splits the arguments after the subcommand. Unknown options are kept for the run; an
/// unknown option followed by a non-option token takes it as its value (build/run/test take
/// no positional arguments).
DbtArgs parse_dbt_args(const std::vector<std::string>& args);

/// The user's arguments read as dbt reads them: parse_dbt_args, plus the environment variables
/// dbt takes for the same flags (DBT_FULL_REFRESH: a full refresh, as `-f` is).
DbtArgs parse_dbt_args(const std::vector<std::string>& args, const Environment& env);

/// A boolean dbt flag given by environment variable, read as dbt's CLI (click) reads it:
/// 1/true/t/yes/y/on are true (any case, surrounding spaces ignored); unset, empty and
/// anything else is false.
bool dbt_env_flag(const Environment& env, const std::string& name);

/// Arguments for `dbt ls` that resolve the user's selection for `subcommand`, printing one
/// JSON object with the unique_id per line.
std::vector<std::string> ls_arguments(const std::string& subcommand, const DbtArgs& args);

/// Arguments for `dbt <subcommand>` that run exactly the nodes listed as successful in
/// `<private_state_dir>/run_results.json`: the user's non-selection arguments plus
/// `--select result:success --state DIR --indirect-selection empty`. Their length does not
/// depend on the number of nodes. A user's `--state` becomes `--defer-state` when deferring.
std::vector<std::string> run_arguments(const std::string& subcommand, const DbtArgs& args,
                                       const std::string& private_state_dir,
                                       const Environment& env);

/// Arguments for `dbt clone` of the nodes listed as successful in
/// `<private_state_dir>/run_results.json`, each cloned from the relation
/// `<private_state_dir>/manifest.json` gives it: the user's project settings and --threads, then
/// `--select result:success --state DIR --full-refresh` (without --full-refresh dbt clone
/// leaves a relation that exists as it is).
std::vector<std::string> clone_arguments(const DbtArgs& args, const std::string& private_state_dir);

/// Arguments for `dbt show` / `dbt source freshness` helpers: the project settings only.
std::vector<std::string> project_arguments(const DbtArgs& args);

/// Arguments for `dbt show --inline <query>`, the one way orc asks dbt a Jinja-SQL question
/// (the warehouse probe, the clone batch): every row (no limit) as JSON on stdout, quietly,
/// plain-text logs without colours; target/manifest.json (and run_results.json) are written
/// only with `write_json`; then `project_args` (project_arguments()).
std::vector<std::string> show_inline_arguments(const std::string& query, bool write_json,
                                               const std::vector<std::string>& project_args);

}  // namespace orc
