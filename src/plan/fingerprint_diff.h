#pragma once
// Every component in which two fingerprints differ, old -> new (for orc_decisions.json and
// `orc explain`). compare_fingerprints names only the first; this lists them all. Pure.
#include <string>
#include <vector>

#include "state/state.h"

namespace orc {

/// One differing fingerprint component: `component` is code, relation, adapter, kind,
/// inputs, config, macros, vars or env_vars; `key` the config key, macro, var or env var
/// (empty for the single-valued ones); values are the recorded and current hashes (or
/// identities), "" when absent on that side.
struct ComponentChange {
  std::string component;
  std::string key;
  std::string old_value;
  std::string new_value;
};

/// The components of `now` that differ from `recorded`, in compare_fingerprints' order.
std::vector<ComponentChange> fingerprint_changes(const Fingerprint& recorded,
                                                 const Fingerprint& now);

}  // namespace orc
