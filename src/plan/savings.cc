#include "plan/savings.h"

#include <cmath>
#include <fmt/format.h>

namespace orc {

RunSavings reuse_savings(const Plan& plan, const State& state, const StateKeys& keys) {
  RunSavings out;
  out.decided = plan.decisions.size();
  for (const NodeDecision& d : plan.decisions) {
    if (d.action != Action::Reuse) continue;
    ++out.reused;
    const StateEntry* e = keys.entry(state, d.node);
    if (e && e->build_seconds) out.saved_seconds += *e->build_seconds;
    else ++out.reused_without_duration;
  }
  return out;
}

void add_run_savings(SavingsTotals& totals, const RunSavings& run) {
  totals.runs += 1;
  totals.reused_nodes += static_cast<int64_t>(run.reused);
  totals.decided_nodes += static_cast<int64_t>(run.decided);
  totals.saved_seconds += run.saved_seconds;
}

std::string format_duration(double seconds) {
  if (!(seconds > 0)) return "0s";
  if (seconds < 60) return fmt::format("{:.1f}s", seconds);
  auto whole = static_cast<int64_t>(std::llround(seconds));
  if (whole < 3600) return fmt::format("{}m {:02}s", whole / 60, whole % 60);
  return fmt::format("{}h {:02}m", whole / 3600, (whole % 3600) / 60);
}

std::string savings_line(const RunSavings& run) {
  return fmt::format("{}/{} nodes reused, ~{} of build time saved", run.reused, run.decided,
                     format_duration(run.saved_seconds));
}

}  // namespace orc
