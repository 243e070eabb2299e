#include "dbt/dbt_requests.h"

#include <cstdio>

#include "core/log.h"
#include "dbt/dbt_output.h"
#include "dbt/selection.h"

namespace orc {

SelectionAnswer DbtCommands::resolve(const std::string& subcommand, const DbtArgs& args) {
  SelectionAnswer out;
  ProcessResult ls = invoker_.capture(ls_arguments(subcommand, args));
  if (ls.exit_code != 0) {
    std::fputs(without_python_tracebacks(ls.stdout_text).c_str(), stdout);
    std::fputs(without_python_tracebacks(ls.stderr_text).c_str(), stderr);
    log_error("dbt ls failed while resolving the selection (exit code {})", ls.exit_code);
    out.exit_code = ls.exit_code;
    return out;
  }
  out.unique_ids = parse_ls_output(ls.stdout_text);
  return out;
}

bool DbtCommands::ask(const Graph& graph, const ProbeRequest& request, const DbtArgs& args,
                      ProbeResult& result, bool write_manifest) {
  return probe_warehouse(graph, request, invoker_, project_arguments(args), result,
                         write_manifest);
}

CloneBatchAnswer DbtCommands::clone(const std::vector<CloneJob>& jobs, const DbtArgs& args) {
  return run_clone_batch(jobs, invoker_, project_arguments(args));
}

int DbtCommands::build(const std::vector<std::string>& command) { return invoker_.run(command); }

std::vector<DbtProcessRecord> DbtCommands::processes() const { return invoker_.processes(); }

}  // namespace orc
