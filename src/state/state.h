#pragma once
// The state model shared by every backend: what orc remembers about each built node.
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/timestamp.h"

namespace orc {

/// What one node consumed and produced when it last built successfully.
struct StateEntry {
  std::string checksum;
  std::string last_updated;                     ///< ISO-8601 as stored (any offset / naive).
  std::map<std::string, std::string> sources;   ///< source unique_id -> max_loaded_at consumed.
  /// orc's addition: parent asset id -> that parent's `last_updated` when this node built.
  /// Absent in files written by the reference.
  std::map<std::string, std::string> parents;
  bool has_parents = false;                     ///< whether `parents` was recorded at all.
  /// Other fields of the entry, kept verbatim as `"key":value` pairs joined by ','.
  std::string extra_fields;
};

/// The whole state document: {"state": {asset_id: entry}} plus any other top-level fields.
struct State {
  std::unordered_map<std::string, StateEntry> entries;
  std::string extra_top_level;  ///< Other top-level fields, verbatim `"key":value,...`.
};

/// Parses a state document. Throws orc::Error naming `origin` when the text is not JSON or
/// not of the expected shape ({"state": {...}} with object entries).
State parse_state(std::string_view text, const std::string& origin);

/// Serialises a state document (entries sorted by key, so output is deterministic).
std::string serialize_state(const State& state);

/// Folds `updates` into `base`: per entry, the one with the newer `last_updated` wins
/// (an update whose timestamp cannot be compared wins). Returns the number of entries taken.
size_t merge_state(State& base, const State& updates);

/// Entries whose key starts with "{account}." (integration_account_id filtering on load).
State filter_for_account(const State& state, const std::string& account_id);

}  // namespace orc
