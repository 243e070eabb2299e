#pragma once
// Writing dbt's run_results.json: results orc records for nodes dbt did not run (a node orc
// reused, an exposure dbt would have recorded as a no-op), appended to the document dbt wrote
// or in a document of orc's own, in dbt's shape (schema v6). Pure text in, text out.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orc {

/// One result orc writes in dbt's RunResultOutput shape for a node dbt did not run: no timing
/// (`[]`), execution_time 0, an empty adapter_response, thread_id kOrcThreadId, no compiled
/// code.
struct WrittenResult {
  std::string unique_id;
  std::string status;
  std::optional<std::string> message;  ///< null when absent
  std::string relation_name;           ///< "" is written as null
  std::optional<int> failures;         ///< null when absent
};

/// The thread_id of every result orc writes: no dbt thread ran the node.
inline constexpr const char* kOrcThreadId = "orc";

/// The status of a reused node in the run_results.json of dbt `dbt_version`: `reused` for
/// dbt-core 1.12 and later (RunStatus.Reused, allowed by their v6 schema), else `no-op`.
/// Older dbt rejects a document with an unknown status wherever it loads one (`dbt retry`,
/// `--state` with `result:` selectors), and `success` would claim a build that did not happen.
/// An unreadable version counts as older.
std::string reused_status(std::string_view dbt_version);

/// The metadata and args of a run_results.json orc writes itself.
struct RunResultsHeader {
  std::string dbt_version;
  std::string generated_at;
  std::string invocation_id;
  std::string invocation_started_at;  ///< "" leaves the field out
  std::string command;                ///< args.which; "" writes `"args": {}`
  std::string invocation_command;     ///< args.invocation_command; "" leaves it out
};

/// A whole run_results.json (schema v6) holding `results`, elapsed_time 0.
std::string run_results_document(const RunResultsHeader& header,
                                 const std::vector<WrittenResult>& results);

/// `dbt_json` (a run_results.json dbt wrote) with `added` appended to its results array, except
/// those whose unique_id already has a result there (dbt's record wins) or comes twice. Every
/// byte dbt wrote is kept. Throws orc::Error naming `origin` when the text is not a
/// run_results document.
std::string with_added_results(std::string_view dbt_json, const std::vector<WrittenResult>& added,
                               const std::string& origin);

}  // namespace orc
