// `orc dbt build|run|test` in stateful mode and `orc plan`: the workflow (src/workflow) with
// the configured state store and the real dbt.
#include <filesystem>

#include "cli/commands.h"
#include "config/config.h"
#include "core/error.h"
#include "core/log.h"
#include <fmt/format.h>
#include "dbt/dbt_args.h"
#include "dbt/dbt_invoker.h"
#include "dbt/dbt_requests.h"
#include "stores/state_store.h"
#include "workflow/stateful_run.h"

namespace orc {

int run_stateful_command(const std::string& subcommand, const std::vector<std::string>& args,
                         const Config& config, bool plan_only, bool plan_json,
                         bool plan_quiet) {
  RunRequest request;
  request.subcommand = subcommand;
  request.reuse_from = config.reuse_from;
  // --reuse-from is orc's own option: taken out before dbt sees the arguments.
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--reuse-from" || a.rfind("--reuse-from=", 0) == 0) {
      std::string value = a == "--reuse-from" ? (i + 1 < args.size() ? args[++i] : "")
                                              : a.substr(13);
      if (value.empty() || value.rfind("-", 0) == 0)
        throw UsageError("orc dbt " + subcommand + ": --reuse-from needs the name of the dbt "
                         "target whose builds to clone, e.g. --reuse-from prod");
      request.reuse_from = value;
      continue;
    }
    request.args.push_back(a);
  }
  request.dbt_args = parse_dbt_args(request.args, config.env);
  request.cwd = std::filesystem::current_path();
  request.plan_only = plan_only;
  request.plan_json = plan_json;
  request.plan_quiet = plan_quiet;
  // The store first: a state that cannot be reached stops orc before any dbt work.
  std::unique_ptr<StateStore> store = open_state_store(config);
  std::unique_ptr<DbtInvoker> invoker =
      open_dbt(config.env, request.cwd, project_arguments(request.dbt_args));
  DbtCommands dbt(*invoker);
  int code = run_stateful(request, config, dbt, *store);
  log_debug("dbt processes started: {}", dbt.processes().size());
  return code;
}

int run_live_plan_command(const std::vector<std::string>& args, const Config& config) {
  std::string subcommand = "build";
  std::vector<std::string> rest;
  bool json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (i == 0 && (a == "build" || a == "run" || a == "test")) {
      subcommand = a;
    } else if (a == "--output" || a.rfind("--output=", 0) == 0) {
      std::string value = a == "--output" ? (i + 1 < args.size() ? args[++i] : "") : a.substr(9);
      if (value != "json" && value != "table")
        throw UsageError(fmt::format("orc plan: --output {} is not a format; expected `table` "
                                     "(the default) or `json`",
                                     value.empty() ? "(missing)" : value));
      json = value == "json";
    } else {
      rest.push_back(a);
    }
  }
  if (json) set_logs_to_stderr(true);  // stdout holds only the record
  return run_stateful_command(subcommand, rest, config, /*plan_only=*/true, json);
}

}  // namespace orc
