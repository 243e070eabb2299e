#include "workflow/stateful_run.h"

#include <cstdio>
#include <fmt/format.h>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "core/file_io.h"
#include "core/log.h"
#include "core/process.h"
#include "core/sha256.h"
#include "core/temp_dir.h"
#include "core/timestamp.h"
#include "dbt/clone_batch.h"
#include "dbt/clone_manifest.h"
#include "dbt/project_paths.h"
#include "dbt/project_vars.h"
#include "dbt/run_results.h"
#include "plan/session.h"
#include "report/decisions_report.h"
#include "report/run_results_record.h"
#include "report/savings_report.h"
#include "workflow/resolve_selection.h"

namespace orc {
namespace fs = std::filesystem;

namespace {

/// Seeds are identified by their file's bytes (the manifest's checksum of a large seed is
/// only its path).
/// With `all_selected` every selected seed, else only seeds that a source reads (the decision
/// must know whether rebuilding them changes what the source holds).
void hash_seed_files(Graph& graph, const std::vector<NodeId>& selected, const fs::path& project,
                     bool all_selected) {
  for (NodeId id : selected) {
    Node& n = graph.nodes[id];
    if (n.kind != NodeKind::Seed || n.original_file_path.empty()) continue;
    if (!all_selected && n.read_as_source.empty()) continue;
    fs::path root = n.root_path.empty() ? project : fs::path(n.root_path);
    fs::path file = root / n.original_file_path;
    if (!fs::exists(file)) file = project / n.original_file_path;
    n.checksum = sha256_file_hex(file);
  }
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

/// Writes `change` to the store under its guard. Returns 0, or the error's exit code after
/// logging `failure` and the error (a failing store fails the run).
int write_change(StateStore& store, const StateChange& change, const char* failure) {
  try {
    store.apply(change);
    return 0;
  } catch (const Error& e) {
    log_error("{}: {}", failure, e.what());
    return e.exit_code;
  }
}

/// Adds `run` to the store's savings totals by itself (when the run wrote no entries to carry
/// them); a failure is a warning: the run's outcome does not depend on it.
void add_savings_to_store(StateStore& store, const RunSavings& run) {
  try {
    store.apply(Session::savings_only(run));
  } catch (const Error& e) {
    log_warn("savings not recorded in {}: {}", store.describe(), e.what());
  }
}

/// Makes the clones of the CLONE decisions of `plan` that have a relation (tests have none),
/// each from the relation the other target's entry names (docs/design.md, "Reusing another
/// target's builds"): first, in one batch (dbt/clone_batch.h), every node the batch clones as
/// dbt would; then, with `dbt clone` through a state manifest written from this run's
/// manifest, the others, those the batch left, and, when it declined or failed, all of its
/// nodes. A node not cloned is decided BUILD instead (its children here read it). `listed`
/// gives the other target's relation kinds (the probe's listing). Returns a success result
/// per cloned node (the batch's, made up like dbt clone's: no completion time) and dbt clone's
/// results; sets `previous_invocation` to dbt clone's invocation.
std::vector<NodeResult> clone_nodes(Graph& graph, Plan& plan, const DbtArgs& dargs,
                                    const RelationCatalog& listed, const fs::path& manifest_path,
                                    const fs::path& results_path, const std::string& started_at,
                                    const std::string& target, DbtRequests& dbt, RunInfo& info,
                                    std::string& previous_invocation) {
  std::vector<CloneJob> batch;
  std::unordered_map<std::string, CloneSource> from;  // for dbt clone
  std::vector<std::string> ids;
  for (const NodeDecision& d : plan.decisions) {
    const Node& n = graph.nodes[d.node];
    if (d.action != Action::Clone || n.is_test()) continue;
    auto parts = split_relation_name(d.clone_of->fingerprint->relation);
    CloneSource source{*parts, d.clone_of->fingerprint->relation};
    if (batch_clonable(graph, n)) {
      std::string kind =
          listed.lookup(parts->database, parts->schema, parts->identifier).value_or("");
      batch.push_back({n.unique_id, {n.database, n.schema, n.alias}, std::move(source),
                       std::move(kind)});
    } else {
      from.emplace(n.unique_id, std::move(source));
      ids.push_back(n.unique_id);
    }
  }
  std::vector<NodeResult> results;
  if (!batch.empty()) {
    log_info("Cloning {} nodes from target {} in one batch", batch.size(), target);
    CloneBatchAnswer a = dbt.clone(batch, dargs);
    info.clone_batch =
        CloneBatchRecord{batch.size(), a.left.size(), outcome_name(a.outcome), a.why};
    const bool made = a.outcome == CloneBatchAnswer::Outcome::Cloned;
    if (!made)
      log_warn("the clone batch {}: {}; dbt clone clones its {} nodes instead",
               outcome_name(a.outcome), a.why, batch.size());
    const std::unordered_set<std::string> left(a.left.begin(), a.left.end());
    for (CloneJob& j : batch) {
      if (made && !left.count(j.unique_id)) {
        results.push_back({j.unique_id, "success", "", 0.0});
      } else {
        ids.push_back(j.unique_id);
        from.emplace(j.unique_id, std::move(j.from));
      }
    }
  }
  if (!ids.empty()) {
    TempDir dir("orc-clone");
    write_file_atomic(dir.path() / "manifest.json",
                      clone_state_manifest(read_file(manifest_path), from, manifest_path.string()));
    write_file_atomic(dir.path() / "run_results.json",
                      synthetic_run_results(ids, "orc", started_at));
    info.clone_command = clone_arguments(dargs, dir.path().string());
    log_info("Cloning {} nodes from target {} with dbt clone", ids.size(), target);
    dbt.build(info.clone_command);
    if (auto r = read_run_results(results_path); r && r->invocation_id != previous_invocation) {
      previous_invocation = r->invocation_id;
      results.insert(results.end(), r->results.begin(), r->results.end());
    }
  }
  std::unordered_set<std::string> cloned;
  for (const NodeResult& r : results)
    if (is_success_status(r.status)) cloned.insert(r.unique_id);
  for (NodeDecision& d : plan.decisions) {
    const Node& n = graph.nodes[d.node];
    if (d.action != Action::Clone || n.is_test() || cloned.count(n.unique_id)) continue;
    log_warn("dbt clone did not clone {}; it is built instead", n.unique_id);
    d.reason = Reason{ReasonCode::CloneFailed, d.reason.subject, {}};
    d.action = Action::Build;
    d.clone_of = nullptr;
    --plan.clone_count;
    ++plan.build_count;
  }
  return results;
}

void stop_if_interrupted() {
  if (interrupt_received())
    throw Error("interrupted before dbt started; nothing was run or recorded",
                128 + interrupt_signal());
}

}  // namespace

int run_stateful(const RunRequest& request, const Config& config, DbtRequests& dbt,
                 StateStore& store) {
  const Environment& env = config.env;
  const std::string& subcommand = request.subcommand;
  const DbtArgs& dargs = request.dbt_args;
  const ProjectPaths paths = resolve_project_paths(dargs, env, request.cwd);

  // State first: a missing or corrupt state must stop orc before any dbt work.
  State state = store.load();
  log_debug("loaded {} state entries from {}", state.entries.size(), store.describe());

  SessionSettings settings = session_settings(config);
  settings.decide.full_refresh = dargs.full_refresh;
  settings.decide.placeholder_data = dargs.placeholder_data;
  settings.reuse_from = request.reuse_from;

  // `orc plan` leaves dbt's record of the last run as it was (dbt's `show` rewrites it).
  const fs::path results_path = paths.target_dir / "run_results.json";
  std::optional<std::string> results_before;
  std::error_code ec;
  if (request.plan_only && fs::exists(results_path, ec)) results_before = read_file(results_path);

  // 1+2. The selection (as dbt resolves it), a fresh manifest, and what the warehouse says.
  const fs::path manifest_path = paths.target_dir / "manifest.json";
  // A --full-refresh builds everything, so no relation needs verifying; the sources and vars
  // are still asked, so that the entries it records let the next run reuse (docs/design.md,
  // "The run").
  const bool verify_relations = config.verify_relations_exist && !dargs.full_refresh;
  ProbeScope scope{verify_relations, !config.require_explicit_source_freshness, {}};
  if (settings.reuse_from && verify_relations)  // where the other target's relations are
    scope.extra_schemas = TargetEntries(state, *settings.reuse_from).schemas();
  ResolvedSelection resolved =
      resolve_selection(subcommand, dargs, env, manifest_path, scope, dbt);
  if (resolved.dbt_exit_code != 0) return resolved.dbt_exit_code;
  stop_if_interrupted();
  Graph& graph = resolved.graph;
  const std::vector<NodeId>& selected = resolved.selected;
  hash_seed_files(graph, selected, paths.project_dir, config.seed_state_orchestration);
  Observations observed = std::move(resolved.probed.observed);
  observed.relations.enabled = verify_relations;
  FingerprintContext context;
  context.var_values = std::move(resolved.probed.var_values);
  context.scopes = read_var_scopes(paths.project_dir, dargs);
  if (!context.scopes.problem.empty())
    log_warn("vars of installed packages are unknown, so their readers are built: {}",
             context.scopes.problem);
  context.env = [&env](const std::string& name) { return env.get(name); };
  settings.target_name = resolved.probed.target_name;
  if (settings.reuse_from && *settings.reuse_from == settings.target_name)
    throw Error(fmt::format("--reuse-from {} names the target this run builds; name the target "
                            "whose builds to clone (e.g. --target ci --reuse-from prod)",
                            *settings.reuse_from));
  // The engine, once: which entries are this run's, under which keys, and the decision.
  Session session(graph, state, settings, std::move(context));
  if (settings.reuse_from) {
    if (!session.reuse_from())
      log_warn("--reuse-from {} is ignored: with integration_account_id and local_run false, "
               "entries are keyed by relation and another target's cannot be found",
               *settings.reuse_from);
    else if (session.reuse_from()->size() == 0)
      log_warn("--reuse-from {}: the state has no entry recorded for target {} (entries "
               "record their target since orc 0.9: run it once with this orc)",
               *settings.reuse_from, *settings.reuse_from);
  }
  if (session.keys().scoped())
    log_debug("{} state entries are this account's", session.state().entries.size());
  log_debug("selected {} nodes; freshness known for {} sources; {} relations listed",
            selected.size(), observed.freshness.size(), observed.relations.kinds.size());

  // 3. The decision.
  const Micros now = clock_now(env);
  const std::string started_at = format_timestamp(now);
  Plan plan = session.decide(selected, observed, now);
  // `orc plan` prints its table (or record) instead; debug output still lists every node.
  if (!request.plan_only || debug_logging()) log_decisions(graph, plan);

  RunInfo info;
  info.command = subcommand;
  info.full_refresh = dargs.full_refresh;
  info.generated_at = started_at;
  info.plan_only = request.plan_only;
  info.savings = session.savings(plan);
  // dbt's threads: --threads, else the profile's (target.threads, asked in the query).
  info.savings->threads = dargs.threads ? dargs.threads : resolved.probed.threads;
  const bool record_savings = !dargs.placeholder_data && info.savings->reused > 0;

  const size_t decided = plan.decisions.size();
  const RunResultsRecord run_results(config.reused_in_run_results, graph, plan,
                                     std::move(resolved.exposures));
  const fs::path decisions_path = paths.target_dir / "orc_decisions.json";
  auto write_decisions = [&] {
    info.dbt_processes = dbt.processes();
    write_file_atomic(decisions_path, decisions_json(graph, plan, info));
  };

  auto build_set = [&] {
    std::vector<std::string> out;
    for (const NodeDecision& d : plan.decisions)
      if (d.action == Action::Build) out.push_back(graph.nodes[d.node].unique_id);
    return out;
  };
  std::vector<std::string> to_build = build_set();
  if (request.plan_only) {
    if (results_before) write_file_atomic(results_path, *results_before);
    else fs::remove(results_path, ec);
    write_decisions();
    if (!request.plan_quiet) {
      std::string shown = request.plan_json ? decisions_json(graph, plan, info)
                                            : plan_table(graph, plan);
      std::fputs(shown.c_str(), stdout);
      std::fflush(stdout);
    }
    if (request.plan_json || request.plan_quiet)  // the table ends with the same summary
      log_info("Plan: {} of {} nodes would be built, {} reused{} (nothing was run)",
               to_build.size(), decided, plan.reuse_count,
               plan.clone_count ? fmt::format(", {} cloned", plan.clone_count) : "");
    return 0;
  }
  // --full-refresh and --empty/--sample: dbt runs exactly as the user asked.
  const bool as_given = dargs.full_refresh || dargs.placeholder_data;
  std::string previous_invocation;
  if (auto before = read_run_results(results_path)) previous_invocation = before->invocation_id;
  // 4a. Under --reuse-from, clones first: the build reads them.
  std::vector<NodeResult> clone_results;
  if (plan.clone_count > 0) {
    write_decisions();
    clone_results = clone_nodes(graph, plan, dargs, observed.relations, manifest_path,
                                results_path, started_at, *settings.reuse_from, dbt, info,
                                previous_invocation);
    to_build = build_set();
  }
  if (to_build.empty() && !as_given) {
    write_decisions();
    // Nothing ran: say so, rather than leave an earlier run's (or orc's own query's) results.
    run_results.write_without_dbt(results_path, subcommand, request.args, started_at);
    log_info("Nothing to build: dbt {} not started", subcommand);
    bool savings_recorded = false;
    if (plan.clone_count > 0) {
      StateChange change = session.record(plan, clone_results, std::move(observed),
                                          format_timestamp(clock_now(env)),
                                          record_savings ? info.savings : std::optional<RunSavings>());
      if (int failed = write_change(store, change, "state not saved")) return failed;
      savings_recorded = true;
    }
    if (record_savings && !savings_recorded) add_savings_to_store(store, *info.savings);
    log_info("{}", savings_line(*info.savings));
    return 0;
  }

  // 4. Run dbt on the BUILD set (or as given with --full-refresh).
  std::optional<TempDir> private_dir;  // outside the project: the synthetic run_results.json
  if (as_given) {
    info.run_command = {subcommand};
    info.run_command.insert(info.run_command.end(), request.args.begin(), request.args.end());
  } else {
    private_dir.emplace("orc-selection");
    write_file_atomic(private_dir->path() / "run_results.json",
                      synthetic_run_results(run_results.selection(to_build), "orc", started_at));
    info.run_command = run_arguments(subcommand, dargs, private_dir->path().string(), env);
  }
  write_decisions();

  bool savings_recorded = false;
  log_info("Building {} of {} nodes", to_build.size(), decided);
  int code = dbt.build(info.run_command);
  private_dir.reset();

  // 5. Record exactly what succeeded in this invocation.
  auto results = read_run_results(results_path);
  if (auto t = build_threads(results); t && !info.savings->threads &&
                                        results->invocation_id != previous_invocation)
    info.savings->threads = t;  // no query answered: the threads this build ran nodes on
  if (!results || results->invocation_id == previous_invocation) {
    log_warn("dbt wrote no run results for this invocation; state not updated");
  } else if (dargs.placeholder_data) {
    // The relations dbt built hold placeholder data: their entries must not let a later run
    // reuse them (design.md, "The run").
    StateChange drop = session.drop_placeholders(results->results);
    log_info("--empty/--sample run: {} relations hold placeholder data; their state entries "
             "are dropped so the next run builds them", drop.removed.size());
    if (!drop.empty())
      if (int failed = write_change(store, drop, "state not updated"); failed && code == 0)
        code = failed;
    savings_recorded = true;
  } else {
    if (!dargs.full_refresh) {
      info.not_run = not_run(to_build, results->results);
      if (!info.not_run->empty()) {
        log_warn("dbt did not run {} of the {} nodes orc decided to build (skipped or not "
                 "selected by dbt), e.g. {}; see not_run in {}",
                 info.not_run->size(), to_build.size(), info.not_run->front(),
                 decisions_path.string());
      }
    }
    // One guarded write per run: the entries and the savings totals together.
    std::vector<NodeResult> recorded = std::move(clone_results);
    recorded.insert(recorded.end(), results->results.begin(), results->results.end());
    StateChange change =
        session.record(plan, recorded, std::move(observed),
                       format_timestamp(clock_now(env)),
                       record_savings ? info.savings : std::optional<RunSavings>());
    if (!change.merged.entries.empty()) {
      if (int failed = write_change(store, change, "state not saved")) {
        if (code == 0) code = failed;
      } else {
        log_debug("saved {} state entries to {}", change.merged.entries.size(),
                  store.describe());
      }
      savings_recorded = true;  // with the entries (or the store is failing: no second try)
    }
  }
  if (results && results->invocation_id != previous_invocation)
    run_results.add_to_dbt_results(results_path);
  write_decisions();  // with the build's invocation and not_run
  if (record_savings && !savings_recorded) add_savings_to_store(store, *info.savings);
  log_info("{}", savings_line(*info.savings));
  return code;
}

}  // namespace orc
