#pragma once
// What a run observes besides the manifest and the state (docs/design.md, "The session"):
// what the warehouse said about the sources and relations, filled by the warehouse probe
// directly and read by the decision and the state update. Pure data: no I/O.
#include <optional>
#include <string>
#include <unordered_map>

#include "plan/relation_catalog.h"

namespace orc {

/// Source unique_id -> max_loaded_at (ISO-8601). A source absent from the map, or mapped to
/// nullopt, has unknown freshness, which counts as new data.
using FreshnessMap = std::unordered_map<std::string, std::optional<std::string>>;

/// A data-change token of a source without loaded_at_* (design.md, "Implicit freshness"): an
/// opaque value that changes whenever the source's data changes, compared for equality. No
/// value means orc cannot tell (counts as new data); `why_unknown` then says why.
struct SourceToken {
  std::optional<std::string> value;
  std::string method;       ///< how the value was measured, e.g. "fingerprint"
  std::string why_unknown;  ///< e.g. "the source is a view"
};

/// Source unique_id -> its token, for sources without loaded_at_* that were asked about.
using TokenMap = std::unordered_map<std::string, SourceToken>;

/// Source unique_id -> its change marker now, for sources with loaded_at_* whose marker was
/// read (design.md, "Late-arriving rows"): an opaque value beside max_loaded_at (a row count,
/// DML counters, a last-modified time) compared for equality only. Absent: unknown, and the
/// source is judged by max_loaded_at alone.
using MarkerMap = std::unordered_map<std::string, std::string>;

/// What the decision observes besides the manifest and the state.
struct Observations {
  FreshnessMap freshness;     ///< source freshness now (sources with loaded_at_*)
  RelationCatalog relations;  ///< relations the warehouse holds (disabled: not checked)
  TokenMap tokens;            ///< data-change tokens now (sources without loaded_at_*)
  MarkerMap markers;          ///< change markers now (sources with loaded_at_*)

  /// Forgets what was observed of source `unique_id` (asked again, or not to be recorded).
  void forget_source(const std::string& unique_id) {
    freshness.erase(unique_id);
    tokens.erase(unique_id);
    markers.erase(unique_id);
  }
};

}  // namespace orc
