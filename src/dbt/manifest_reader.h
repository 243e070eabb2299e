#pragma once
// manifest.json -> Graph, with simdjson on-demand: only the fields the decision needs are
// touched, the rest of a (possibly huge) manifest is skipped without building a DOM.
#include <filesystem>
#include <string>
#include <string_view>

#include "plan/graph.h"

namespace orc {

/// Reads and links the manifest's nodes, sources and unit tests. Throws orc::Error naming
/// the file when it is missing or not a dbt manifest.
Graph read_manifest(const std::filesystem::path& path);

/// Same, from text already in memory (`origin` names it in errors).
Graph parse_manifest(std::string_view json, const std::string& origin);

}  // namespace orc
