#pragma once
// What orc tells the user and tools about its decisions: log lines before dbt runs, and the
// machine-readable <target-path>/orc_decisions.json.
#include <optional>
#include <string>
#include <vector>

#include "dbt/dbt_invoker.h"
#include "plan/decide.h"
#include "plan/savings.h"

namespace orc {

/// What the clone batch of a --reuse-from run did (dbt/clone_batch.h).
struct CloneBatchRecord {
  size_t nodes = 0;     ///< the relations it was given
  size_t left = 0;      ///< of those, left to dbt clone (CloneBatchAnswer::left)
  std::string outcome;  ///< "cloned", "declined" or "failed"
  std::string why;      ///< declined or failed: the reason ("" otherwise)
};

/// Facts about the invocation recorded beside the decisions.
struct RunInfo {
  std::string command;                  ///< build | run | test
  bool full_refresh = false;
  bool plan_only = false;               ///< `orc plan`: decided, nothing run
  std::string generated_at;             ///< ISO-8601
  /// Every process orc started for dbt during the run (the build included once it ran), with
  /// the invocations made inside each.
  std::vector<DbtProcessRecord> dbt_processes;
  std::vector<std::string> run_command;    ///< the dbt command that runs the BUILD set (empty: none)
  /// Under --reuse-from: the clone batch, when one ran.
  std::optional<CloneBatchRecord> clone_batch;
  /// The `dbt clone` command of the CLONE nodes the batch did not clone (empty: none ran).
  std::vector<std::string> clone_command;
  /// After dbt finished: nodes decided BUILD that dbt did not run (absent or skipped).
  std::optional<std::vector<std::string>> not_run;
  /// What reuse saved in this run (the reused nodes' node-seconds and the wall-clock estimate).
  std::optional<RunSavings> savings;
};

/// The orc_decisions.json document.
std::string decisions_json(const Graph& graph, const Plan& plan, const RunInfo& info);

/// The table `orc plan` prints: one line per decided node (node, decision, reason code,
/// reason), then a summary line. Printed once: `orc plan` logs no per-node lines beside it.
std::string plan_table(const Graph& graph, const Plan& plan);

/// One log line per reused node with its reason (a count instead when there are more than
/// `max_lines` and debug is off), and one per built node in debug.
void log_decisions(const Graph& graph, const Plan& plan, size_t max_lines = 50);

}  // namespace orc
