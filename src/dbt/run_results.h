#pragma once
// dbt's run_results.json: reading what a run did, and writing the synthetic one that tells
// `dbt <cmd> --select result:success --state DIR` which nodes to run.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "plan/state_update.h"

namespace orc {

struct RunResults {
  std::string invocation_id;
  std::string generated_at;
  std::string dbt_version;  ///< metadata.dbt_version ("" when absent)
  std::vector<NodeResult> results;
  std::string command;  ///< `args.which`: build, run, test, show, ... ("" when absent)
  /// The threads the invocation ran nodes on: `args.threads` when given (dbt records it only
  /// when --threads was), else the number of distinct `thread_id`s of its results (the
  /// threads that ran a node, at most the configured count; the results orc wrote for nodes
  /// dbt did not run do not count); nullopt when neither.
  std::optional<int> threads;
};

/// Reads run_results.json; nullopt when the file is missing or unreadable (callers decide
/// whether that is an error).
std::optional<RunResults> read_run_results(const std::filesystem::path& path);

/// Parses run_results.json text. Throws orc::Error when it is not a run results document.
RunResults parse_run_results(std::string_view json, const std::string& origin);

/// The threads of the dbt build, run, test, seed or snapshot recorded in `results` (see
/// RunResults::threads); nullopt for any other command (a `show` runs one node on one
/// thread), or when unknown.
std::optional<int> build_threads(const std::optional<RunResults>& results);

/// A run_results.json that dbt accepts as previous state, listing `unique_ids` as successful.
/// With no ids it is the truthful record of a run in which nothing ran.
std::string synthetic_run_results(const std::vector<std::string>& unique_ids,
                                  const std::string& dbt_version,
                                  const std::string& generated_at,
                                  const std::string& invocation_id = "orc-selection");

/// The ids of `decided_to_build` that `results` does not show as run: absent, or skipped.
std::vector<std::string> not_run(const std::vector<std::string>& decided_to_build,
                                 const std::vector<NodeResult>& results);

}  // namespace orc
