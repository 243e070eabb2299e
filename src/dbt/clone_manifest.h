#pragma once
// The state manifest `dbt clone` defers to (docs/design.md, "Reusing another target's
// builds"): dbt's own manifest of this run with each cloned node's relation moved to the
// relation the other target built, so that `dbt clone --state DIR` clones exactly those.
#include <string>
#include <string_view>
#include <unordered_map>

#include "plan/target_entries.h"

namespace orc {

/// The relation a cloned node is cloned from: its parts and dbt's rendered relation name.
struct CloneSource {
  RelationParts parts;
  std::string relation_name;
};

/// `manifest` (a manifest.json text) with the database, schema, alias and relation_name of
/// each node of `sources` (by unique_id) replaced by that node's clone source; every other
/// byte as it was. Throws orc::Error naming `origin` when the text is not a manifest.
std::string clone_state_manifest(std::string_view manifest,
                                 const std::unordered_map<std::string, CloneSource>& sources,
                                 const std::string& origin);

}  // namespace orc
