#pragma once
// What `orc state import | forget` change in a state document, computed as data so that the
// dry run and the guarded write apply the same rule (prune's keys: plan/state_keys.h). Pure:
// no I/O.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "state/state.h"

namespace orc {

/// The keys of a state that a set of patterns names (core/node_pattern.h), sorted.
struct KeyMatch {
  std::vector<std::string> keys;       ///< every matched key
  std::vector<std::string> unmatched;  ///< patterns that matched no key
};

/// The keys of `state` that any of `patterns` names, among those `eligible` accepts (all keys
/// when it is empty).
KeyMatch match_keys(const State& state, const std::vector<std::string>& patterns,
                    const std::function<bool(std::string_view)>& eligible = {});

/// What merging `incoming` into `stored` (merge_state) does, per key, sorted.
struct ImportDiff {
  std::vector<std::string> added;     ///< not stored yet
  std::vector<std::string> replaced;  ///< stored, and the imported entry wins (newer or equal)
  std::vector<std::string> kept;      ///< stored entry is newer: the imported one is dropped
};

/// The per-key outcome of merge_state(stored, incoming), without changing `stored`.
ImportDiff import_diff(const State& stored, const State& incoming);

}  // namespace orc
