// `orc dbt build|run|test` in stateful mode: resolve the selection, read freshness, decide,
// run dbt on the BUILD set only, record what succeeded.
#include <cstdlib>
#include <set>
#include <fmt/format.h>
#include <unistd.h>

#include "cli/commands.h"
#include "config/config.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/log.h"
#include "core/process.h"
#include "core/sha256.h"
#include "core/temp_dir.h"
#include "dbt/dbt_args.h"
#include "dbt/dbt_runner.h"
#include "dbt/manifest_reader.h"
#include "dbt/project_paths.h"
#include "dbt/run_results.h"
#include "dbt/selection.h"
#include "dbt/warehouse_probe.h"
#include "core/fast_hash.h"
#include "plan/decide.h"
#include "plan/state_update.h"
#include "report/decisions_report.h"
#include "report/savings_report.h"
#include "state/state_store.h"

namespace orc {
namespace fs = std::filesystem;

namespace {

/// Seeds are identified by their file's bytes (the manifest's checksum of a large seed is
/// only its path).
void hash_seed_files(Graph& graph, const std::vector<NodeId>& selected, const fs::path& project) {
  for (NodeId id : selected) {
    Node& n = graph.nodes[id];
    if (n.kind != NodeKind::Seed || n.original_file_path.empty()) continue;
    fs::path root = n.root_path.empty() ? project : fs::path(n.root_path);
    fs::path file = root / n.original_file_path;
    if (!fs::exists(file)) file = project / n.original_file_path;
    n.checksum = sha256_file_hex(file);
  }
}

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

/// What the warehouse query covers besides freshness and vars (from the configuration).
struct ProbeScope {
  bool verify_relations = true;  ///< list the schemas of reusable relations
  bool source_tokens = true;     ///< change tokens of sources without loaded_at_*
};

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

/// Hash of where var values come from in bulk: --vars and the project's dbt_project.yml.
std::string vars_source_hash(const DbtArgs& args, const fs::path& project_dir) {
  HashBuilder h;
  for (const auto& g : args.groups)
    if (g.name == "--vars")
      for (const auto& v : g.values) h.add(v);
  std::error_code ec;
  fs::path yml = project_dir / "dbt_project.yml";
  h.add(fs::exists(yml, ec) ? sha256_file_hex(yml) : std::string("no dbt_project.yml"));
  return h.hex();
}

/// Nodes a plain `dbt <subcommand>` (no selection arguments) runs.
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
                                  const ProbeScope& scope, DbtRunner& dbt, Graph& graph,
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
  if (!probe_warehouse(previous, asked, dbt, project_arguments(args), result, true))
    return false;  // nothing to ask: `dbt ls` gives the fresh manifest instead
  if (interrupt_received() || fs::last_write_time(manifest_path, ec) == written_before)
    return false;
  graph = read_manifest(manifest_path);
  if (graph.has_default_selector) return false;
  selected = default_selection(graph, subcommand);
  ProbeRequest again =
      not_yet_asked(graph, probe_request(graph, selected, scope), previous, asked);
  for (NodeId s : again.sources) {
    result.freshness.erase(graph.nodes[s].unique_id);
    result.tokens.erase(graph.nodes[s].unique_id);
  }
  probe_warehouse(graph, again, dbt, project_arguments(args), result);
  probed = std::move(result);
  return true;
}

/// Now, or the test-only override ORC_NOW (an ISO-8601 timestamp) so that tests can move time
/// past a build_after window.
Micros clock_now(const Environment& env) {
  if (auto fixed = env.get_nonempty("ORC_NOW")) {
    if (auto t = parse_timestamp(*fixed)) return *t;
    throw Error(fmt::format("ORC_NOW=\"{}\" is not an ISO-8601 timestamp", *fixed));
  }
  return now_micros();
}

void stop_if_interrupted() {
  if (interrupt_received())
    throw Error("interrupted before dbt started; nothing was run or recorded",
                128 + interrupt_signal());
}

}  // namespace

int run_stateful_command(const std::string& subcommand, const std::vector<std::string>& args,
                         const Config& config) {
  const Environment& env = config.env;
  const fs::path cwd = fs::current_path();
  const DbtArgs dargs = parse_dbt_args(args, env);
  const ProjectPaths paths = resolve_project_paths(dargs, env, cwd);

  // State first: a missing or corrupt state must stop orc before any dbt work.
  std::unique_ptr<StateStore> store = open_state_store(config);
  State state = store->load();
  if (config.integration_account_id) state = filter_for_account(state, *config.integration_account_id);
  log_debug("loaded {} state entries from {}", state.entries.size(), store->describe());

  DecideSettings settings;
  settings.full_refresh = dargs.full_refresh;
  settings.seed_state_orchestration = config.seed_state_orchestration;
  if (config.integration_account_id && !config.local_run)
    settings.asset_prefix = *config.integration_account_id + ".";

  DbtRunner dbt(find_dbt_executable(env), cwd);

  // 1+2. The selection (as dbt resolves it), a fresh manifest, and the freshness of the
  // sources the selected nodes read.
  const fs::path manifest_path = paths.target_dir / "manifest.json";
  const bool verify_relations = config.verify_relations_exist && !dargs.full_refresh;
  Graph graph;
  std::vector<NodeId> selected;
  ProbeResult probed;
  const ProbeScope scope{verify_relations, !config.require_explicit_source_freshness};
  if (!probe_with_previous_manifest(subcommand, dargs, env, manifest_path, scope, dbt, graph,
                                    selected, probed)) {
    ProcessResult ls = dbt.capture(ls_arguments(subcommand, dargs));
    if (ls.exit_code != 0) {
      std::fputs(ls.stdout_text.c_str(), stdout);
      std::fputs(ls.stderr_text.c_str(), stderr);
      log_error("dbt ls failed while resolving the selection (exit code {})", ls.exit_code);
      return ls.exit_code;
    }
    stop_if_interrupted();
    graph = read_manifest(manifest_path);
    selected.clear();
    for (const auto& uid : parse_ls_output(ls.stdout_text))
      if (auto id = graph.find(uid)) selected.push_back(*id);
    if (!dargs.full_refresh)
      probe_warehouse(graph, probe_request(graph, selected, scope), dbt,
                      project_arguments(dargs), probed);
  }
  stop_if_interrupted();
  if (config.seed_state_orchestration) hash_seed_files(graph, selected, paths.project_dir);
  Lineage lineage(graph);
  Observations observed;
  observed.freshness = std::move(probed.freshness);
  observed.tokens = std::move(probed.tokens);
  observed.relations = std::move(probed.relations);
  observed.relations.enabled = verify_relations;
  const FreshnessMap& freshness = observed.freshness;
  FingerprintContext context;
  context.var_values = std::move(probed.var_values);
  context.vars_source = vars_source_hash(dargs, paths.project_dir);
  context.env = [&env](const std::string& name) { return env.get(name); };
  Fingerprinter fingerprints(graph, lineage, std::move(context));
  log_debug("selected {} nodes; freshness known for {} sources; {} relations listed",
            selected.size(), freshness.size(), observed.relations.kinds.size());

  // 3. The decision.
  const Micros now = clock_now(env);
  const std::string started_at = format_timestamp(now);
  Plan plan = decide(graph, lineage, fingerprints, selected, observed, state, now, settings);
  log_decisions(graph, plan);

  RunInfo info;
  info.command = subcommand;
  info.full_refresh = dargs.full_refresh;
  info.generated_at = started_at;
  info.dbt_processes = dbt.commands();
  info.savings = reuse_savings(graph, plan, state, settings);

  std::vector<std::string> to_build;
  for (const NodeDecision& d : plan.decisions)
    if (d.action == Action::Build) to_build.push_back(graph.nodes[d.node].unique_id);
  const size_t decided = plan.decisions.size();
  const fs::path decisions_path = paths.target_dir / "orc_decisions.json";

  const fs::path results_path = paths.target_dir / "run_results.json";
  if (to_build.empty() && !dargs.full_refresh) {
    write_file_atomic(decisions_path, decisions_json(graph, plan, info));
    // Nothing ran: say so, rather than leave an earlier run's (or orc's own query's) results.
    write_file_atomic(results_path, synthetic_run_results({}, "orc", started_at,
                                                          "orc-nothing-built"));
    log_info("Nothing to build: dbt {} not started", subcommand);
    report_savings(*store, *info.savings, !dargs.placeholder_data);
    log_debug("dbt processes started: {}", dbt.commands().size());
    return 0;
  }

  // 4. Run dbt on the BUILD set (or as given with --full-refresh).
  std::optional<TempDir> private_dir;  // outside the project: the synthetic run_results.json
  if (dargs.full_refresh) {
    info.run_command = {subcommand};
    info.run_command.insert(info.run_command.end(), args.begin(), args.end());
  } else {
    private_dir.emplace("orc-selection");
    write_file_atomic(private_dir->path() / "run_results.json",
                      synthetic_run_results(to_build, "orc", started_at));
    info.run_command = run_arguments(subcommand, dargs, private_dir->path().string(), env);
  }
  write_file_atomic(decisions_path, decisions_json(graph, plan, info));

  std::string previous_invocation;
  if (auto before = read_run_results(results_path)) previous_invocation = before->invocation_id;
  log_info("Building {} of {} nodes", to_build.size(), decided);
  int code = dbt.run(info.run_command);
  private_dir.reset();

  // 5. Record exactly what succeeded in this invocation.
  auto results = read_run_results(results_path);
  if (dargs.placeholder_data) {
    log_info("--empty/--sample run: tables hold placeholder data, so no state is recorded");
  } else if (!results || results->invocation_id == previous_invocation) {
    log_warn("dbt wrote no run results for this invocation; state not updated");
  } else {
    if (!dargs.full_refresh) {
      info.not_run = not_run(to_build, results->results);
      if (!info.not_run->empty()) {
        log_warn("dbt did not run {} of the {} nodes orc decided to build (skipped or not "
                 "selected by dbt), e.g. {}; see not_run in {}",
                 info.not_run->size(), to_build.size(), info.not_run->front(),
                 decisions_path.string());
      }
      write_file_atomic(decisions_path, decisions_json(graph, plan, info));
    }
    State updates = entries_for_results(graph, lineage, fingerprints, results->results,
                                        observed, state, settings,
                                        format_timestamp(clock_now(env)));
    if (!updates.entries.empty()) {
      try {
        store->save_merged(updates);
        log_debug("saved {} state entries to {}", updates.entries.size(), store->describe());
      } catch (const Error& e) {
        log_error("state not saved: {}", e.what());
        if (code == 0) code = e.exit_code;
      }
    }
  }
  report_savings(*store, *info.savings, !dargs.placeholder_data);
  log_debug("dbt processes started: {}", dbt.commands().size());
  return code;
}

}  // namespace orc
