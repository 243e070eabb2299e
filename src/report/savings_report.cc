#include "report/savings_report.h"

#include <cmath>
#include <cstdint>
#include <fmt/format.h>

namespace orc {

std::string format_duration(double seconds) {
  if (!(seconds > 0)) return "0s";
  if (seconds < 60) return fmt::format("{:.1f}s", seconds);
  auto whole = static_cast<int64_t>(std::llround(seconds));
  if (whole < 3600) return fmt::format("{}m {:02}s", whole / 60, whole % 60);
  return fmt::format("{}h {:02}m", whole / 3600, (whole % 3600) / 60);
}

namespace {

std::string node_seconds(double seconds) {
  return fmt::format("{:.1f} node-seconds of warehouse work skipped", seconds > 0 ? seconds : 0);
}

}  // namespace

std::string savings_line(const RunSavings& run) {
  std::string out = fmt::format("{}/{} nodes reused", run.reused, run.decided);
  if (run.cloned > 0) out += fmt::format(", {} cloned", run.cloned);
  out += ": " + node_seconds(run.node_seconds);
  if (auto wall = run.wall_seconds_estimate(); wall && run.reused > 0)
    out += fmt::format(" (~{} wall-clock at {} thread{})", format_duration(*wall), *run.threads,
                       *run.threads == 1 ? "" : "s");
  if (run.reused_without_duration > 0)
    out += fmt::format("; {} reused node{} without a recorded duration",
                       run.reused_without_duration, run.reused_without_duration == 1 ? "" : "s");
  return out;
}

std::string savings_totals_line(const SavingsTotals& t) {
  return fmt::format("{}/{} nodes reused, {}", t.reused_nodes, t.decided_nodes,
                     node_seconds(t.saved_seconds));
}

}  // namespace orc
