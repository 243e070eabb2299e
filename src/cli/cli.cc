#include "cli/cli.h"

#include <cstdio>
#include <filesystem>
#include <optional>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/is_warn.h"
#include "cli/passthrough.h"
#include "config/config.h"
#include "core/error.h"
#include "core/log.h"
#include "dbt/dbt_args.h"

namespace orc {

namespace {

constexpr const char* kOrchestraCommands = "is_warn, plan, save-state";

/// `orc dbt orchestra <command> <args...>`.
int run_orchestra(const std::vector<std::string>& args, const Config& config) {
  if (args.empty())
    throw UsageError(fmt::format("`orc dbt orchestra` needs a command: one of {}",
                                 kOrchestraCommands));
  const std::string& command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "is_warn") {
    auto path = is_warn_run_results_path(rest, config.env, std::filesystem::current_path());
    log_debug("is_warn reads {}", path.string());
    std::printf("%s\n", is_warn_verdict(path).c_str());
    std::fflush(stdout);
    return 0;
  }
  if (command == "plan") return run_plan_command(rest, config);
  if (command == "save-state") return run_save_state_command(rest, config);
  throw Error(fmt::format("unknown command `orc dbt orchestra {}`; known commands: {}", command,
                          kOrchestraCommands));
}

/// The configuration for a command: looked for from the dbt project directory the user
/// named (`project_dir`, else DBT_PROJECT_DIR), then the working directory; sets up debug
/// logging and secret redaction.
Config load_cli_config(std::optional<std::filesystem::path> project_dir) {
  const Environment env = Environment::from_process();
  if (!project_dir)
    if (auto from_env = env.get_nonempty("DBT_PROJECT_DIR")) project_dir = *from_env;
  Config config = load_config(std::filesystem::current_path(), env, project_dir);
  set_debug_logging(config.debug);
  if (config.api_key) add_log_secret(*config.api_key);
  log_debug("orc {}; configuration from {}", ORC_VERSION,
            config.pyproject ? config.pyproject->string() : "defaults and environment");
  return config;
}

/// The value of `--project-dir` among a tool's arguments, if given.
std::optional<std::filesystem::path> tool_project_dir(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--project-dir" && i + 1 < args.size()) return args[i + 1];
    if (args[i].rfind("--project-dir=", 0) == 0) return args[i].substr(14);
  }
  return std::nullopt;
}

}  // namespace

std::string usage_line() {
  return "Usage: orc dbt <subcommand> [args...] | orc state|explain|dag ...\n"
         "Try 'orc --help' for help.";
}

std::string help_text() {
  return fmt::format(
      R"(orc {} - state-aware orchestration for dbt Core

Usage: orc dbt <subcommand> [args...]
       orc plan [build|run|test] [--output table|json] [dbt args...]
       orc state|explain|dag [args...]
       orc --version | --help

Commands:
  orc dbt build|run|test [args...]  with use_stateful on: rebuild only the nodes whose
                                    inputs changed, reuse the rest; else plain dbt
  orc dbt <other> [args...]         runs dbt unchanged (same output, same exit code)
  orc dbt orchestra is_warn         prints WARNING if the last run_results.json has a
                                    result with status warn, else SUCCEEDED
  orc plan [build|run|test] [args]  the real decision (selection, freshness, relations,
                                    state) without building anything or writing state:
                                    a table of node, decision, reason (--output json: the
                                    orc_decisions.json record)
  orc dbt orchestra plan ...        engine only: decide on given artifact files without
                                    dbt or a warehouse (benchmarks)
  orc dbt orchestra save-state ...  merge entries into the configured state store
  orc state show [PATTERN...] [--output json|table] [--savings]
                                    the configured store's entries (or the savings totals)
  orc state export FILE             the stored state document into FILE
  orc state import FILE [--dry-run] merge FILE's entries in (newer last_updated wins)
  orc state forget PATTERN... [--dry-run]
                                    remove entries: those nodes are built by the next run
  orc state prune [--manifest PATH] [--dry-run]
                                    remove entries of nodes the manifest no longer has
  orc explain PATTERN... [--decisions PATH] [--output json|text]
                                    why the last run built or reused each matched node
  orc dag --html FILE [--open] [--decisions PATH] [--manifest PATH]
                                    the last run's DAG as one self-contained HTML page
  PATTERN: a unique_id, a name (stg_orders), or a glob on either (model.shop.*, stg_*);
  --project-dir DIR finds the configuration and target/ as `orc dbt` does.

Configuration: [tool.orchestra_dbt] in the nearest pyproject.toml that has it, walking up
from the dbt project directory (--project-dir / DBT_PROJECT_DIR), then from the working
directory (`debug` always from there); environment variables override it.
  use_stateful              ORCHESTRA_USE_STATEFUL              (default false)
  state_file                ORCHESTRA_STATE_FILE                (local path or s3://, gs://,
                                                                 abfs(s):// URI)
  orchestra_env             ORCHESTRA_ENV                       (app | stage | dev; default app)
  local_run                 ORCHESTRA_LOCAL_RUN                 (default true)
  debug                     ORCHESTRA_DBT_DEBUG                 (default false)
  integration_account_id    ORCHESTRA_INTEGRATION_ACCOUNT_ID    (default none)
  seed_state_orchestration  ORCHESTRA_SEED_STATE_ORCHESTRATION  (default false)
  verify_relations_exist    ORCHESTRA_VERIFY_RELATIONS_EXIST    (default true)
  volatility                ORCHESTRA_VOLATILITY                (filters | any | never;
                                                                 default filters)
  require_explicit_source_freshness
                            ORCHESTRA_REQUIRE_EXPLICIT_SOURCE_FRESHNESS (default false)
  scope_source_freshness_to_selection
                            ORCHESTRA_SCOPE_SOURCE_FRESHNESS_TO_SELECTION (accepted; orc
                                                                 always scopes freshness)
Other environment variables:
  ORCHESTRA_API_KEY   store state in Orchestra (takes precedence over state files)
  ORC_DBT             the dbt executable to run (default: dbt on PATH)
  ORC_DBT_MODE        driver (default: one dbt process per run, in dbt's own Python) or
                      process (one dbt process per invocation)
)",
      ORC_VERSION);
}

int dispatch_dbt(const std::string& subcommand, const std::vector<std::string>& args,
                 const Config& config) {
  if (subcommand == "orchestra") return run_orchestra(args, config);
  if (config.use_stateful && (subcommand == "build" || subcommand == "run" || subcommand == "test"))
    return run_stateful_command(subcommand, args, config);
  return run_passthrough(subcommand, args, config);
}

int run_cli(const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("missing command: orc runs dbt commands as `orc dbt <subcommand>`");
  const std::string& first = args[0];
  if (first == "--version") {
    std::printf("orc %s\n", ORC_VERSION);
    return 0;
  }
  if (first == "--help" || first == "-h") {
    std::fputs(help_text().c_str(), stdout);
    return 0;
  }
  if (first == "plan") {
    std::vector<std::string> rest(args.begin() + 1, args.end());
    Config config = load_cli_config(parse_dbt_args(rest).project_dir);
    return run_live_plan_command(rest, config);
  }
  if (first == "state" || first == "explain" || first == "dag") {
    std::vector<std::string> tool_args(args.begin() + 1, args.end());
    Config config = load_cli_config(tool_project_dir(tool_args));
    if (first == "state") return run_state_command(tool_args, config);
    if (first == "explain") return run_explain_command(tool_args, config);
    return run_dag_command(tool_args, config);
  }
  if (first != "dbt") {
    if (!first.empty() && first[0] == '-') throw UsageError(fmt::format("no such option: {}", first));
    throw UsageError(
        fmt::format("no such command '{}'; did you mean `orc dbt {}`?", first, first));
  }
  if (args.size() < 2)
    throw UsageError("missing dbt subcommand, e.g. `orc dbt build` or `orc dbt run`");

  std::vector<std::string> rest(args.begin() + 2, args.end());
  Config config = load_cli_config(parse_dbt_args(rest).project_dir);
  return dispatch_dbt(args[1], rest, config);
}

}  // namespace orc
