#pragma once
// Step 1+2 of a stateful run: the nodes dbt would run (as dbt resolves the selection), a fresh
// manifest, and what the warehouse says about them (freshness, change tokens, relations, var
// values), with as few dbt invocations as possible (docs/design.md, "The run").
#include <filesystem>
#include <string>
#include <vector>

#include "core/environment.h"
#include "dbt/dbt_args.h"
#include "dbt/dbt_requests.h"
#include "dbt/warehouse_probe.h"
#include "plan/graph.h"

namespace orc {

/// What the warehouse query covers besides freshness and vars (from the configuration).
struct ProbeScope {
  bool verify_relations = true;  ///< list the schemas of reusable relations
  bool source_tokens = true;     ///< change tokens of sources without loaded_at_*
  /// (database, schema) pairs listed too when verifying relations: where --reuse-from's
  /// target keeps the relations it may clone.
  std::vector<std::pair<std::string, std::string>> extra_schemas;
};

/// The selection and what was learnt about it.
struct ResolvedSelection {
  Graph graph;                    ///< the fresh manifest
  std::vector<NodeId> selected;   ///< the nodes dbt's selection gives, in manifest order
  /// The exposures it gives (`build` only): dbt records each as a no-op.
  std::vector<std::string> exposures;
  ProbeResult probed;
  int dbt_exit_code = 0;          ///< non-zero: `dbt ls` failed (its output was printed)
};

/// Resolves the selection of `dbt <subcommand> <args>` and probes the warehouse for it.
/// An unfiltered run with a usable previous manifest asks the warehouse and regenerates the
/// manifest in one invocation (no `dbt ls`); otherwise `dbt ls` then the query. Throws
/// orc::Error when the manifest cannot be read.
ResolvedSelection resolve_selection(const std::string& subcommand, const DbtArgs& args,
                                    const Environment& env,
                                    const std::filesystem::path& manifest_path,
                                    const ProbeScope& scope, DbtRequests& dbt);

/// Nodes a plain `dbt <subcommand>` (no selection arguments) runs.
std::vector<NodeId> default_selection(const Graph& graph, const std::string& subcommand);

}  // namespace orc
