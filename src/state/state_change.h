#pragma once
// One change to a stored state document, as data (docs/design.md, "State"): merge these
// entries, remove those keys, add to the savings totals. StateStore::update applies it to each
// attempt's read, so a concurrent writer's work is kept. Pure: no I/O.
#include <optional>
#include <string>
#include <vector>

#include "state/state.h"

namespace orc {

/// A change to a state document; applying it is a pure function of the document given.
struct StateChange {
  State merged;                      ///< entries merged in (merge_state: newer wins per entry)
  std::vector<std::string> removed;  ///< keys removed (absent keys are ignored)
  std::optional<SavingsTotals> savings;  ///< added to the document's totals

  /// Nothing to write.
  bool empty() const { return merged.entries.empty() && removed.empty() && !savings; }

  /// Applies the change to `stored`: removals, then the merge, then the totals.
  void apply(State& stored) const;
};

/// `totals` plus `more`, field by field.
SavingsTotals& operator+=(SavingsTotals& totals, const SavingsTotals& more);

}  // namespace orc
