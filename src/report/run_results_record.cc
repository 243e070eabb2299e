#include "report/run_results_record.h"

#include <system_error>

#include "core/error.h"
#include "core/file_io.h"
#include "core/log.h"
#include "core/uuid.h"
#include "dbt/run_results.h"
#include "plan/reason.h"

namespace orc {

std::vector<WrittenResult> reused_results(const Graph& graph, const Plan& plan,
                                          const std::vector<std::string>& exposures,
                                          const std::string& status) {
  std::vector<WrittenResult> out;
  out.reserve(plan.reuse_count + exposures.size());
  for (const NodeDecision& d : plan.decisions) {
    const Node& n = graph.nodes[d.node];
    if (d.action == Action::Reuse)
      out.push_back({n.unique_id, status, "Reused: " + reason_text(d.reason), n.relation_name, {}});
    else if (d.action == Action::Clone)  // dbt clone's own result is replaced by the build's
      out.push_back({n.unique_id, n.is_test() ? "pass" : "success",
                     "Cloned: " + reason_text(d.reason), n.relation_name,
                     n.is_test() ? std::optional<int>(0) : std::nullopt});
  }
  for (const auto& id : exposures) out.push_back({id, "no-op", "NO-OP", "", 0});
  return out;
}

RunResultsRecord::RunResultsRecord(bool enabled, const Graph& graph, const Plan& plan,
                                   std::vector<std::string> exposures)
    : enabled_(enabled), graph_(graph), plan_(plan), exposures_(std::move(exposures)) {}

std::vector<std::string> RunResultsRecord::selection(
    const std::vector<std::string>& to_build) const {
  std::vector<std::string> out = to_build;
  if (enabled_) out.insert(out.end(), exposures_.begin(), exposures_.end());
  return out;
}

void RunResultsRecord::add_to_dbt_results(const std::filesystem::path& path) const {
  if (!enabled_ || plan_.reuse_count + plan_.clone_count == 0) return;
  try {
    const std::string text = read_file(path);
    auto dbt_version = parse_run_results(text, path.string()).dbt_version;
    if (dbt_version.empty()) dbt_version = graph_.dbt_version;
    write_file_atomic(path, with_added_results(text, reused_results(graph_, plan_, {},
                                                                    reused_status(dbt_version)),
                                               path.string()));
  } catch (const Error& e) {
    log_warn("the reused nodes are not recorded in {}: {}", path.string(), e.what());
  }
}

void RunResultsRecord::write_without_dbt(const std::filesystem::path& path,
                                         const std::string& command,
                                         const std::vector<std::string>& args,
                                         const std::string& generated_at) const {
  RunResultsHeader header;
  header.dbt_version = graph_.dbt_version;
  header.generated_at = generated_at;
  header.invocation_id = random_uuid();
  header.invocation_started_at = generated_at;
  header.command = command;
  header.invocation_command = "orc dbt " + command;
  for (const auto& a : args) header.invocation_command += " " + a;
  std::vector<WrittenResult> results;
  if (enabled_)
    results = reused_results(graph_, plan_, exposures_, reused_status(graph_.dbt_version));
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  write_file_atomic(path, run_results_document(header, results));
}

}  // namespace orc
