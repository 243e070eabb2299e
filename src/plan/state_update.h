#pragma once
// Rule 6: after dbt finishes, the entries of the nodes that succeeded, and nothing else.
#include <optional>
#include <string>
#include <vector>

#include "plan/decide.h"

namespace orc {

/// One row of run_results.json, reduced to what the state needs.
struct NodeResult {
  std::string unique_id;
  std::string status;        ///< success, pass, error, fail, skipped, warn, ...
  std::string completed_at;  ///< end of the execute step (ISO-8601), may be empty
  std::optional<double> execution_time;  ///< seconds dbt spent on the node, when reported
};

/// True for the statuses that mean "this node's result is now current": `success` (models,
/// seeds, snapshots) and `pass` (tests).
bool is_success_status(const std::string& status);

/// The new entries for every succeeded node of `results` that is in `graph`: effective
/// checksum, fingerprint, last_updated (completion time, else `fallback_time`), the sources it
/// consumed (known freshness and change markers, or data-change tokens, from `observed`), the
/// versions of the parents it consumed and its build duration (`execution_time`, as
/// orc_build_seconds), each under the key `keys` gives it. `before` is the state the run
/// started from; parents rebuilt in this run are recorded with their new version. When the
/// entry under the node's key described another relation (another target), that entry is kept
/// under its per-relation key so both targets' work stays reusable. Each entry records
/// `target` (the dbt target's name, may be ""). A node `plan` (may be null) decided to clone
/// (or a seed loaded like the other target's: NodeDecision::clone_of set) gets a clone entry: what the cloned entry consumed (sources, markers, tokens, build time),
/// with the target and version it was cloned from.
State entries_for_results(const Graph& graph, Lineage& lineage, Fingerprinter& fingerprints,
                          const std::vector<NodeResult>& results, const Observations& observed,
                          const State& before, const StateKeys& keys,
                          const std::string& fallback_time, const std::string& target = {},
                          const Plan* plan = nullptr);

/// The state keys of the entries that describe the relations of the nodes in `results` (run
/// with whatever status): what an --empty/--sample run must drop, since those relations now
/// hold placeholder data. An entry under a node's key that describes another relation (another
/// target's) is left alone.
std::vector<std::string> entries_of_results(const Graph& graph,
                                            const std::vector<NodeResult>& results,
                                            const State& state, const StateKeys& keys);

}  // namespace orc
