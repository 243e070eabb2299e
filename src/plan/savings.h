#pragma once
// What reuse saved: the reused nodes' last build durations (orc_build_seconds in their state
// entries) as node-seconds of warehouse work skipped, and an estimate of the wall-clock time
// that work would have taken on dbt's threads. Pure: no I/O.
#include <cstddef>
#include <optional>

#include "plan/decide.h"
#include "plan/graph.h"
#include "state/state.h"

namespace orc {

/// What reusing nodes saved in one run.
struct RunSavings {
  size_t reused = 0;                   ///< nodes decided REUSE
  size_t decided = 0;                  ///< nodes decided at all
  /// The reused nodes' last build durations, summed: warehouse work skipped. Not time saved:
  /// dbt runs nodes on several threads at once, so their durations overlap.
  double node_seconds = 0;
  size_t reused_without_duration = 0;  ///< reused nodes whose last duration is not recorded
  /// The longest chain of reused nodes' durations through the DAG (nodes built in this run,
  /// and nodes not decided, count 0): however many threads, the skipped work took that long.
  double critical_path_seconds = 0;
  /// dbt's thread count, when the workflow knows it (see build_threads() in
  /// dbt/run_results.h); without it there is no wall-clock estimate.
  std::optional<int> threads;
  size_t cloned = 0;  ///< nodes decided CLONE (--reuse-from): not reused, not built either

  /// The wall-clock time the skipped work would have taken: max(critical path, node-seconds
  /// / threads); nullopt when the threads are unknown.
  std::optional<double> wall_seconds_estimate() const;
};

/// Sums, over the nodes `plan` reuses, the build duration recorded in each one's state entry
/// (the entry the decision used, as `keys` names it); nodes without a recorded duration count
/// 0 and are counted in `reused_without_duration`. The critical path follows `graph`'s edges.
/// `threads` is left unset.
RunSavings reuse_savings(const Graph& graph, const Plan& plan, const State& state,
                         const StateKeys& keys);

/// One run as an addition to the running totals kept in the state document (runs = 1).
SavingsTotals savings_totals(const RunSavings& run);

}  // namespace orc
