#pragma once
// The end of every stateful run: what reuse saved, added to the store's running totals and
// printed as one line.
#include "plan/savings.h"

namespace orc {

class StateStore;

/// Adds `run` to the `orc_savings` totals of `store` (a guarded update, like every save; only
/// when `record` and something was reused: --empty/--sample runs record nothing) and logs
/// savings_line(run). A failed update is a warning: the run's outcome does not depend on it.
void report_savings(StateStore& store, const RunSavings& run, bool record = true);

}  // namespace orc
