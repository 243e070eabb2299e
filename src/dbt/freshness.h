#pragma once
// Source freshness for every source with loaded_at_field / loaded_at_query, whether or not it
// has warn/error thresholds (plain `dbt source freshness` skips those without): one
// `dbt show --inline` union query, split into smaller ones when a part fails.
#include <string>
#include <string_view>
#include <vector>

#include "dbt/dbt_runner.h"
#include "plan/decide.h"
#include "plan/graph.h"

namespace orc {

/// The inline query returning (orc_source_id, orc_max_loaded_at as text) for `sources`.
std::string freshness_query(const Graph& graph, const std::vector<NodeId>& sources);

/// Parses `dbt show --output json` stdout: source id -> max_loaded_at normalised to UTC
/// ISO-8601 (nullopt when null or not a timestamp). Throws orc::Error when there is no
/// show output in the text.
FreshnessMap parse_freshness_output(std::string_view stdout_text);

/// Queries the freshness of `sources` through dbt. Sources without loaded_at_* and sources
/// whose query fails stay out of the map (unknown = assume new data). With `write_manifest`,
/// the first dbt process also writes target/manifest.json (so it can replace `dbt ls`).
FreshnessMap probe_freshness(const Graph& graph, const std::vector<NodeId>& sources,
                             DbtRunner& dbt, const std::vector<std::string>& project_args,
                             bool write_manifest = false);

/// True when both source nodes would be queried with the same SQL.
bool same_freshness_query(const Node& a, const Node& b);

}  // namespace orc
