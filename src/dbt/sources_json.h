#pragma once
// dbt's sources.json (from `dbt source freshness`) as a freshness map.
#include <filesystem>
#include <string>
#include <string_view>

#include "plan/decide.h"

namespace orc {

/// source unique_id -> max_loaded_at (normalised UTC ISO-8601) for every result that has one.
/// Throws orc::Error naming the file when it cannot be read or is not a sources.json.
FreshnessMap read_sources_json(const std::filesystem::path& path);

/// Same, from text already in memory (`origin` names it in errors).
FreshnessMap parse_sources_json(std::string_view text, const std::string& origin);

}  // namespace orc
