#include "report/savings_report.h"

#include "core/error.h"
#include "core/log.h"
#include "state/state_store.h"

namespace orc {

void report_savings(StateStore& store, const RunSavings& run, bool record) {
  if (record && run.reused > 0) {
    try {
      store.update([&run](State& stored) { add_run_savings(stored.savings, run); });
    } catch (const Error& e) {
      log_warn("savings not recorded in {}: {}", store.describe(), e.what());
    }
  }
  log_info("{}", savings_line(run));
}

}  // namespace orc
