// `orc dag --html FILE [--open]`: the last run's decisions (orc_decisions.json) drawn on the
// manifest's edges as one self-contained HTML page.
#include <cstdlib>
#include <spawn.h>
#include <fmt/format.h>
#include <unordered_map>

#include "cli/commands.h"
#include "cli/tool_args.h"
#include "config/config.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/log.h"
#include "dbt/manifest_reader.h"
#include "dbt/run_results.h"
#include "report/dag_html.h"
#include "report/decisions_record.h"

extern char** environ;

namespace orc {
namespace fs = std::filesystem;

namespace {

/// built | reused | cloned | failed | skipped, from the decision and this run's result (if
/// any); a plan's nodes (nothing ran): would build | would reuse | would clone.
std::string node_status(const std::string& decision, const std::string* result, bool plan) {
  if (plan) return "would " + (decision == "reuse" || decision == "clone" ? decision : "build");
  if (decision == "reuse") return "reused";
  if (decision == "clone") return "cloned";  // the build's results do not list clones
  if (!result || *result == "skipped") return "skipped";
  if (*result == "error" || *result == "fail" || *result == "runtime error") return "failed";
  return "built";
}

/// Edges between drawn nodes: each drawn node's nearest drawn ancestors in the manifest
/// (walking through nodes that are not drawn, such as ephemeral models).
std::vector<std::pair<int, int>> drawn_edges(const Graph& graph,
                                             const std::unordered_map<std::string, int>& index,
                                             const std::vector<DagNode>& nodes) {
  std::vector<std::pair<int, int>> edges;
  for (size_t c = 0; c < nodes.size(); ++c) {
    auto id = graph.find(nodes[c].unique_id);
    if (!id) continue;
    std::vector<NodeId> stack(graph.nodes[*id].parents.begin(), graph.nodes[*id].parents.end());
    std::vector<bool> seen(graph.nodes.size(), false);
    while (!stack.empty()) {
      NodeId p = stack.back();
      stack.pop_back();
      if (seen[p]) continue;
      seen[p] = true;
      auto it = index.find(graph.nodes[p].unique_id);
      if (it != index.end()) edges.emplace_back(it->second, static_cast<int>(c));
      else stack.insert(stack.end(), graph.nodes[p].parents.begin(), graph.nodes[p].parents.end());
    }
  }
  return edges;
}

/// Starts $BROWSER, else xdg-open, on `file` without waiting for it; warns when neither
/// can be started.
void open_in_browser(const fs::path& file, const Config& config) {
  std::string opener = config.env.get_nonempty("BROWSER").value_or("xdg-open");
  std::string target = fs::absolute(file).string();
  char* argv[] = {opener.data(), target.data(), nullptr};
  pid_t pid = 0;
  if (::posix_spawnp(&pid, opener.c_str(), nullptr, nullptr, argv, environ) != 0)
    log_warn("could not start {} to open {}", opener, file.string());
  else
    fmt::print("opened {} with {}\n", file.string(), opener);
}

}  // namespace

int run_dag_command(const std::vector<std::string>& args, const Config& config) {
  ToolArgs a = parse_tool_args(
      args, {"orc dag", {"--open"}, {"--html", "--decisions", "--manifest", "--project-dir"}});
  auto out = a.option("--html");
  if (!out || !a.positional.empty())
    throw UsageError("usage: orc dag --html FILE [--open] [--decisions PATH] [--manifest PATH]");
  fs::path decisions = a.option("--decisions").value_or("");
  if (decisions.empty())
    decisions = project_target_dir(a.option("--project-dir"), config) / "orc_decisions.json";
  DecisionsRecord record = read_decisions_record(decisions);
  fs::path manifest = a.option("--manifest").value_or("");
  if (manifest.empty()) manifest = decisions.parent_path() / "manifest.json";
  std::error_code ec;
  if (!fs::is_regular_file(manifest, ec))
    throw Error(fmt::format("manifest {} not found (the DAG's edges come from it): pass "
                            "--manifest PATH",
                            manifest.string()));
  Graph graph = read_manifest(manifest);

  // `orc plan` ran nothing: its record is drawn as a plan, and run_results.json (an earlier
  // run's) says nothing about it.
  bool plan = false;
  if (record.root["plan_only"].get_bool().get(plan)) plan = false;
  std::unordered_map<std::string, std::string> results;
  if (!plan)
    if (auto rr = read_run_results(decisions.parent_path() / "run_results.json"))
      for (const auto& r : rr->results) results[r.unique_id] = r.status;

  std::vector<DagNode> nodes;
  std::unordered_map<std::string, int> index;
  for (simdjson::dom::element n : record.nodes) {
    DagNode d;
    d.unique_id = json_string(n, "unique_id");
    d.resource_type = json_string(n, "resource_type");
    auto r = results.find(d.unique_id);
    d.status = node_status(json_string(n, "decision"), r == results.end() ? nullptr : &r->second,
                           plan);
    d.reason_code = json_string(n, "reason_code");
    d.reason = json_string(n, "reason");
    if (index.emplace(d.unique_id, static_cast<int>(nodes.size())).second)
      nodes.push_back(std::move(d));
  }
  std::vector<std::pair<int, int>> edges = drawn_edges(graph, index, nodes);
  assign_layers(nodes, edges);
  std::string title = fmt::format("{} at {}",
                                  plan ? std::string("plan") : json_string(record.root, "command"),
                                  json_string(record.root, "generated_at"));
  write_file_atomic(*out, dag_html(nodes, edges, title, plan));
  fmt::print("wrote {} ({} nodes, {} edges)\n", *out, nodes.size(), edges.size());
  if (a.has("--open")) open_in_browser(*out, config);
  return 0;
}

}  // namespace orc
