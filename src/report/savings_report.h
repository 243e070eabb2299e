#pragma once
// What reuse saved, for people: the end-of-run line and the totals line of
// `orc state show --savings`. Formatting only; the workflow records the totals.
#include <string>

#include "plan/savings.h"
#include "state/state.h"

namespace orc {

/// A duration for people: "0.4s", "12.3s", "4m 05s", "2h 03m".
std::string format_duration(double seconds);

/// The end-of-run line: "N/M nodes reused: X node-seconds of warehouse work skipped" (with
/// ", C cloned" after "reused" when --reuse-from cloned nodes), then
/// " (~W wall-clock at T threads)" when the threads are known, and how many reused nodes
/// have no recorded duration.
std::string savings_line(const RunSavings& run);

/// The totals over the recorded runs: "R/D nodes reused, X node-seconds of warehouse work
/// skipped" (node-seconds overlap across dbt's threads: not wall-clock time).
std::string savings_totals_line(const SavingsTotals& totals);

}  // namespace orc
