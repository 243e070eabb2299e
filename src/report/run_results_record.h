#pragma once
// orc's part of dbt's run_results.json (docs/design.md, "Artifacts"): after a run the file holds
// one result per selected node. dbt records what it ran; orc adds a result for every node it
// reused (status `reused`, `no-op` before dbt 1.12; message "Reused: <orc's reason>") and,
// when dbt was not started, dbt's no-op record of each selected exposure.
#include <filesystem>
#include <string>
#include <vector>

#include "dbt/run_results_writer.h"
#include "plan/decide.h"
#include "plan/graph.h"

namespace orc {

/// The results orc writes for what dbt did not run: one per REUSE decision of `plan`, with
/// `status` and the message "Reused: <reason>", then one per id of `exposures` as dbt's
/// exposure runner writes it (status no-op, message NO-OP, failures 0). Pure.
std::vector<WrittenResult> reused_results(const Graph& graph, const Plan& plan,
                                          const std::vector<std::string>& exposures,
                                          const std::string& status);

/// What orc records in run_results.json for one decided run. Disabled
/// (`reused_in_run_results = false`), the file is what dbt wrote and, when dbt was not
/// started, a document with no results.
class RunResultsRecord {
 public:
  /// `exposures`: the selected exposures (ResolvedSelection::exposures).
  RunResultsRecord(bool enabled, const Graph& graph, const Plan& plan,
                   std::vector<std::string> exposures);

  /// The ids the private selection lists for dbt: `to_build`, plus (enabled) the selected
  /// exposures, so that dbt records them as a plain `dbt build` does (skipped after a failed
  /// parent, else no-op).
  std::vector<std::string> selection(const std::vector<std::string>& to_build) const;

  /// dbt wrote the run_results.json at `path` in this run: adds the reused results to it
  /// (atomically), with the status the dbt version in its metadata knows. A problem is a
  /// warning and leaves dbt's file as it was.
  void add_to_dbt_results(const std::filesystem::path& path) const;

  /// dbt was not started: writes the run_results.json at `path` with metadata like dbt's (the
  /// manifest's dbt version, a new invocation id, `generated_at`, args.which `command` and the
  /// orc command line of `args`) and the reused and exposure results. Throws orc::Error when
  /// the file cannot be written.
  void write_without_dbt(const std::filesystem::path& path, const std::string& command,
                         const std::vector<std::string>& args,
                         const std::string& generated_at) const;

 private:
  bool enabled_;
  const Graph& graph_;
  const Plan& plan_;
  std::vector<std::string> exposures_;
};

}  // namespace orc
