#include "plan/savings.h"

#include <algorithm>
#include <vector>

#include "plan/state_keys.h"

namespace orc {

std::optional<double> RunSavings::wall_seconds_estimate() const {
  if (!threads || *threads <= 0) return std::nullopt;
  return std::max(critical_path_seconds, node_seconds / *threads);
}

RunSavings reuse_savings(const Graph& graph, const Plan& plan, const State& state,
                         const StateKeys& keys) {
  RunSavings out;
  out.decided = plan.decisions.size();
  std::vector<double> seconds(graph.nodes.size(), 0);
  for (const NodeDecision& d : plan.decisions) {
    if (d.action == Action::Clone) ++out.cloned;
    if (d.action != Action::Reuse) continue;
    ++out.reused;
    const StateEntry* e = keys.entry(state, d.node);
    if (e && e->build_seconds) {
      out.node_seconds += *e->build_seconds;
      if (d.node < seconds.size()) seconds[d.node] = std::max(0.0, *e->build_seconds);
    } else {
      ++out.reused_without_duration;
    }
  }
  if (out.reused == 0) return out;
  // Longest path over dbt's edges, parents first: a chain of nodes runs one after another
  // whatever the threads.
  std::vector<double> chain(graph.nodes.size(), 0);
  for (NodeId id : graph.topological_order()) {
    double longest_parent = 0;
    for (NodeId p : graph.nodes[id].parents) longest_parent = std::max(longest_parent, chain[p]);
    chain[id] = longest_parent + seconds[id];
    out.critical_path_seconds = std::max(out.critical_path_seconds, chain[id]);
  }
  return out;
}

SavingsTotals savings_totals(const RunSavings& run) {
  return {1, static_cast<int64_t>(run.reused), static_cast<int64_t>(run.decided),
          run.node_seconds};
}

}  // namespace orc
