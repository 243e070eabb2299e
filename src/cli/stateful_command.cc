// `orc dbt build|run|test` in stateful mode and `orc plan`: the workflow (src/workflow) with
// the configured state store and the real dbt.
#include <filesystem>

#include "cli/commands.h"
#include "config/config.h"
#include "core/log.h"
#include "dbt/dbt_args.h"
#include "dbt/dbt_invoker.h"
#include "state/state_store.h"
#include "workflow/stateful_run.h"

namespace orc {

int run_stateful_command(const std::string& subcommand, const std::vector<std::string>& args,
                         const Config& config, bool plan_only) {
  RunRequest request;
  request.subcommand = subcommand;
  request.args = args;
  request.dbt_args = parse_dbt_args(args, config.env);
  request.cwd = std::filesystem::current_path();
  request.plan_only = plan_only;
  // The store first: a state that cannot be reached stops orc before any dbt work.
  std::unique_ptr<StateStore> store = open_state_store(config);
  std::unique_ptr<DbtInvoker> dbt =
      open_dbt(config.env, request.cwd, project_arguments(request.dbt_args));
  int code = run_stateful(request, config, *dbt, *store);
  log_debug("dbt processes started: {}", dbt->processes().size());
  return code;
}

}  // namespace orc
