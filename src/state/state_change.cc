#include "state/state_change.h"

namespace orc {

void StateChange::apply(State& stored) const {
  remove_entries(stored, removed);
  merge_state(stored, merged);
  if (savings) stored.savings += *savings;
}

SavingsTotals& operator+=(SavingsTotals& totals, const SavingsTotals& more) {
  totals.runs += more.runs;
  totals.reused_nodes += more.reused_nodes;
  totals.decided_nodes += more.decided_nodes;
  totals.saved_seconds += more.saved_seconds;
  return totals;
}

}  // namespace orc
