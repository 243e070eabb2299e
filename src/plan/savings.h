#pragma once
// What reuse saved: the reused nodes' last build durations (orc_build_seconds in their state
// entries), per run and summed over runs. Pure: no I/O.
#include <cstddef>
#include <string>

#include "plan/decide.h"
#include "state/state.h"

namespace orc {

/// What reusing nodes saved in one run.
struct RunSavings {
  size_t reused = 0;                   ///< nodes decided REUSE
  size_t decided = 0;                  ///< nodes decided at all
  double saved_seconds = 0;            ///< sum of the reused nodes' last build durations
  size_t reused_without_duration = 0;  ///< reused nodes whose last duration is not recorded
};

/// Sums, over the nodes `plan` reuses, the build duration recorded in each one's state entry
/// (the entry the decision used, as `keys` names it); nodes without a recorded duration count
/// 0 and are counted in `reused_without_duration`.
RunSavings reuse_savings(const Plan& plan, const State& state, const StateKeys& keys);

/// Adds one run to the running totals kept in the state document.
void add_run_savings(SavingsTotals& totals, const RunSavings& run);

/// A duration for people: "0.4s", "12.3s", "4m 05s", "2h 03m".
std::string format_duration(double seconds);

/// The end-of-run line: "N/M nodes reused, ~X of build time saved".
std::string savings_line(const RunSavings& run);

}  // namespace orc
