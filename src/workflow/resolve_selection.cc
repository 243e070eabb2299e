#include "workflow/resolve_selection.h"

#include <set>

#include "core/error.h"
#include "core/log.h"
#include "core/process.h"
#include "dbt/manifest_reader.h"
#include "plan/decide.h"
#include "plan/fingerprint.h"
#include "plan/lineage.h"

namespace orc {
namespace fs = std::filesystem;

namespace {

/// The sources the decidable selected nodes read, directly or through ephemerals.
std::vector<NodeId> sources_needed(const Graph& graph, Lineage& lineage,
                                   const std::vector<NodeId>& selected) {
  std::vector<bool> seen(graph.nodes.size(), false);
  std::vector<NodeId> out;
  for (NodeId id : selected) {
    if (!is_decidable(graph.nodes[id])) continue;
    for (NodeId s : lineage.of(id).sources)
      if (!seen[s]) {
        seen[s] = true;
        out.push_back(s);
      }
  }
  return out;
}

/// What the warehouse probe must answer for deciding `selected`: the sources they read, the
/// schemas holding the relations they may reuse (when verifying relations) and the vars
/// they read.
ProbeRequest probe_request(const Graph& graph, const std::vector<NodeId>& selected,
                           const ProbeScope& scope) {
  const bool verify_relations = scope.verify_relations;
  Lineage lineage(graph);
  ProbeRequest r;
  r.sources = sources_needed(graph, lineage, selected);
  r.source_tokens = scope.source_tokens;
  std::vector<NodeId> decidable;
  std::set<std::pair<std::string, std::string>> schemas;
  for (NodeId id : selected) {
    const Node& n = graph.nodes[id];
    if (!is_decidable(n)) continue;
    decidable.push_back(id);
    if (verify_relations && !expected_relation_kind(n).empty())
      schemas.emplace(n.database, n.schema);
  }
  if (verify_relations) schemas.insert(scope.extra_schemas.begin(), scope.extra_schemas.end());
  r.schemas.assign(schemas.begin(), schemas.end());
  Fingerprinter reads(graph, lineage, {});
  r.vars = reads.vars_read(decidable);
  return r;
}

/// The parts of `now` that `asked` did not cover (sources whose query changed count as new).
ProbeRequest not_yet_asked(const Graph& graph, const ProbeRequest& now, const Graph& before,
                           const ProbeRequest& asked) {
  ProbeRequest again;
  again.source_tokens = now.source_tokens;
  std::set<std::string> asked_sources;
  for (NodeId s : asked.sources) asked_sources.insert(before.nodes[s].unique_id);
  for (NodeId s : now.sources) {
    const Node& n = graph.nodes[s];
    auto old = before.find(n.unique_id);
    if (!asked_sources.count(n.unique_id) || !old || !same_freshness_query(before.nodes[*old], n))
      again.sources.push_back(s);
  }
  std::set<std::pair<std::string, std::string>> schemas(asked.schemas.begin(), asked.schemas.end());
  for (const auto& sc : now.schemas)
    if (!schemas.count(sc)) again.schemas.push_back(sc);
  std::set<std::string> vars(asked.vars.begin(), asked.vars.end());
  for (const auto& v : now.vars)
    if (!vars.count(v)) again.vars.push_back(v);
  return again;
}

/// Whether dbt would select everything of the command's types: no selection arguments, no
/// selection environment variables (a `default: true` selector is checked on the manifest).
bool selects_everything(const DbtArgs& args, const Environment& env) {
  for (const auto& g : args.groups)
    if (g.role == ArgRole::Selection) return false;
  for (const char* var : {"DBT_RESOURCE_TYPES", "DBT_EXCLUDE_RESOURCE_TYPES", "DBT_SELECTOR"})
    if (env.get_nonempty(var)) return false;
  return true;
}

/// The one-process path for an unfiltered run: the warehouse query is built from the previous
/// manifest and the same `dbt show` writes the fresh manifest, so no `dbt ls` is needed.
/// What the fresh manifest needs beyond that is asked again. Returns false (nothing decided)
/// when the path does not apply: a selection, no previous manifest, a default selector, or a
/// dbt process that did not regenerate the manifest.
bool probe_with_previous_manifest(const std::string& subcommand, const DbtArgs& args,
                                  const Environment& env, const fs::path& manifest_path,
                                  const ProbeScope& scope, DbtRequests& dbt, Graph& graph,
                                  std::vector<NodeId>& selected, ProbeResult& probed) {
  std::error_code ec;
  if (!selects_everything(args, env) || !fs::exists(manifest_path, ec)) return false;
  Graph previous;
  try {
    previous = read_manifest(manifest_path);
  } catch (const Error& e) {
    log_debug("previous manifest not usable ({}); resolving the selection with dbt ls", e.what());
    return false;
  }
  if (previous.has_default_selector) return false;
  ProbeRequest asked =
      probe_request(previous, default_selection(previous, subcommand), scope);
  const auto written_before = fs::last_write_time(manifest_path, ec);
  ProbeResult result;
  if (!dbt.ask(previous, asked, args, result, true))
    return false;  // nothing to ask: `dbt ls` gives the fresh manifest instead
  if (interrupt_received() || fs::last_write_time(manifest_path, ec) == written_before)
    return false;
  graph = read_manifest(manifest_path);
  if (graph.has_default_selector) return false;
  selected = default_selection(graph, subcommand);
  ProbeRequest again =
      not_yet_asked(graph, probe_request(graph, selected, scope), previous, asked);
  for (NodeId s : again.sources) result.observed.forget_source(graph.nodes[s].unique_id);
  dbt.ask(graph, again, args, result, false);
  probed = std::move(result);
  return true;
}

}  // namespace

std::vector<NodeId> default_selection(const Graph& graph, const std::string& subcommand) {
  std::vector<NodeId> out;
  for (NodeId id = 0; id < graph.nodes.size(); ++id) {
    const Node& n = graph.nodes[id];
    bool runs = subcommand == "run"    ? (n.kind == NodeKind::Model && !n.is_ephemeral())
                : subcommand == "test" ? n.is_test()
                                       : is_decidable(n);
    if (runs) out.push_back(id);
  }
  return out;
}

ResolvedSelection resolve_selection(const std::string& subcommand, const DbtArgs& args,
                                    const Environment& env, const fs::path& manifest_path,
                                    const ProbeScope& scope, DbtRequests& dbt) {
  ResolvedSelection out;
  if (probe_with_previous_manifest(subcommand, args, env, manifest_path, scope, dbt, out.graph,
                                   out.selected, out.probed)) {
    if (subcommand == "build") out.exposures = out.graph.exposures;
    return out;
  }
  SelectionAnswer ls = dbt.resolve(subcommand, args);
  if (ls.exit_code != 0) {
    out.dbt_exit_code = ls.exit_code;
    return out;
  }
  if (interrupt_received()) return out;
  out.graph = read_manifest(manifest_path);
  for (const auto& uid : ls.unique_ids) {
    if (auto id = out.graph.find(uid)) out.selected.push_back(*id);
    else if (subcommand == "build" && uid.rfind("exposure.", 0) == 0) out.exposures.push_back(uid);
  }
  dbt.ask(out.graph, probe_request(out.graph, out.selected, scope), args, out.probed, false);
  return out;
}

}  // namespace orc
