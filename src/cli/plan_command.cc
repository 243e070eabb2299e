// `orc dbt orchestra plan`: the pure engine on artifact files, without starting dbt. Used by
// the benchmarks and as a dry run.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <optional>
#include <fmt/format.h>

#include "cli/commands.h"
#include "config/config.h"
#include "core/error.h"
#include "core/file_io.h"
#include "dbt/manifest_reader.h"
#include "dbt/run_results.h"
#include "dbt/sources_json.h"
#include "plan/session.h"
#include "report/decisions_report.h"

namespace orc {
namespace {

constexpr const char* kPlanUsage =
    "usage: orc dbt orchestra plan --manifest FILE --state FILE [--sources FILE]\n"
    "         [--decisions-out FILE] [--run-results FILE --state-out FILE] [--now ISO8601]\n"
    "         [--timings] [--full-refresh] [--adopt-unfingerprinted]\n"
    "Decides BUILD/REUSE for every node of the manifest without running dbt.\n"
    "--adopt-unfingerprinted treats state entries without a fingerprint (dbt-orchestra's)\n"
    "whose checksum matches as built from the current fingerprint (benchmarks against\n"
    "the reference's state files; a real run rebuilds such entries once); --state-out then\n"
    "keeps the adopted fingerprints, as a real run's state would after that rebuild.";

struct PlanOptions {
  std::string manifest, state, sources, decisions_out, run_results, state_out, now;
  bool timings = false;
  bool full_refresh = false;
  bool adopt_unfingerprinted = false;
};

PlanOptions parse_plan_options(const std::vector<std::string>& args) {
  PlanOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw UsageError(fmt::format("{} needs a value\n{}", a, kPlanUsage));
      return args[++i];
    };
    if (a == "--manifest") o.manifest = value();
    else if (a == "--state") o.state = value();
    else if (a == "--sources") o.sources = value();
    else if (a == "--decisions-out") o.decisions_out = value();
    else if (a == "--run-results") o.run_results = value();
    else if (a == "--state-out") o.state_out = value();
    else if (a == "--now") o.now = value();
    else if (a == "--timings") o.timings = true;
    else if (a == "--full-refresh") o.full_refresh = true;
    else if (a == "--adopt-unfingerprinted") o.adopt_unfingerprinted = true;
    else if (a == "--help" || a == "-h") throw UsageError(kPlanUsage);
    else throw UsageError(fmt::format("unknown option {}\n{}", a, kPlanUsage));
  }
  if (o.manifest.empty() || o.state.empty())
    throw UsageError(fmt::format("--manifest and --state are required\n{}", kPlanUsage));
  if (!o.run_results.empty() && o.state_out.empty())
    throw UsageError(fmt::format("--run-results needs --state-out\n{}", kPlanUsage));
  return o;
}

/// Milliseconds spent in each phase.
class PhaseClock {
 public:
  double lap() {
    auto t = std::chrono::steady_clock::now();
    double ms = std::chrono::duration<double, std::milli>(t - last_).count();
    last_ = t;
    return ms;
  }
  double total() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_)
        .count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_ = start_;
};

}  // namespace

int run_plan_command(const std::vector<std::string>& args, const Config& config) {
  const PlanOptions o = parse_plan_options(args);
  Micros now = now_micros();
  if (!o.now.empty()) {
    auto t = parse_timestamp(o.now);
    if (!t) throw UsageError(fmt::format("--now {} is not an ISO-8601 timestamp", o.now));
    now = *t;
  }
  PhaseClock clock;
  // The state is independent of the manifest: it is read on a second core meanwhile.
  // (Timings: parse is the manifest's wall time; state what was left to wait for after it.)
  std::future<State> state_read = std::async(std::launch::async, [&o] {
    return read_state_file(o.state);
  });
  Graph graph = read_manifest(o.manifest);
  const double parse_ms = clock.lap();
  FreshnessMap freshness;
  if (!o.sources.empty()) freshness = read_sources_json(o.sources);
  const double sources_ms = clock.lap();
  State stored = state_read.get();
  SessionSettings settings = session_settings(config);
  settings.decide.full_refresh = o.full_refresh;
  FingerprintContext context;  // no warehouse here: the values of vars are unknown
  context.env = [&config](const std::string& name) { return config.env.get(name); };
  // The decisions read the entries a run sees; unless keys are account-scoped that is the
  // whole stored state itself (no copy of a possibly 100k-entry state).
  Session session(graph, stored, settings, std::move(context));
  const double state_ms = clock.lap();

  std::vector<NodeId> all(graph.nodes.size());
  for (NodeId i = 0; i < all.size(); ++i) all[i] = i;
  Observations observed;
  observed.freshness = std::move(freshness);
  if (o.adopt_unfingerprinted) session.adopt_unfingerprinted();
  const double adopt_ms = clock.lap();
  Plan plan = session.decide(all, observed, now);
  const double decide_ms = clock.lap();

  RunInfo info;
  info.command = "plan";
  info.full_refresh = o.full_refresh;
  info.generated_at = format_timestamp(now);
  // The decisions report and the state update read the plan and the graph and write apart: the
  // report is written on a second core meanwhile. (Timings: update is the state update's wall
  // time; write what was left to wait for after it.)
  std::future<void> report = std::async(std::launch::async, [&] {
    if (!o.decisions_out.empty())
      write_file_atomic(o.decisions_out, decisions_json(graph, plan, info));
  });

  double update_ms = 0;
  if (!o.run_results.empty()) {
    auto results = read_run_results(o.run_results);
    if (!results) throw Error(fmt::format("cannot read run results {}", o.run_results));
    session.record(plan, results->results, observed, format_timestamp(now), std::nullopt)
        .apply(stored);
    write_file_atomic(o.state_out, serialize_state(stored));
    update_ms = clock.lap();
  }
  report.get();
  const double write_ms = clock.lap();
  if (o.timings) {
    fmt::print("{{\"nodes\": {}, \"decided\": {}, \"build\": {}, \"reuse\": {}, "
               "\"parse_manifest_ms\": {:.3f}, \"read_sources_ms\": {:.3f}, "
               "\"load_state_ms\": {:.3f}, \"adopt_ms\": {:.3f}, \"decide_ms\": {:.3f}, "
               "\"write_decisions_ms\": {:.3f}, \"update_state_ms\": {:.3f}, \"total_ms\": "
               "{:.3f}}}\n",
               graph.nodes.size(), plan.decisions.size(), plan.build_count, plan.reuse_count,
               parse_ms, sources_ms, state_ms, adopt_ms, decide_ms, write_ms, update_ms,
               clock.total());
  } else {
    fmt::print("{}/{} nodes reused\n", plan.reuse_count, plan.decisions.size());
  }
  // Every output is written; handing the (possibly gigabyte-sized) graph, state and mapping
  // back to the OS at once is much faster than freeing them piece by piece.
  std::fflush(stdout);
  std::_Exit(0);
}

}  // namespace orc
