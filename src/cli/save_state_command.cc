#include <fmt/format.h>

#include "cli/commands.h"
#include "config/config.h"
#include "core/error.h"
#include "core/file_io.h"
#include "state/state.h"
#include "stores/state_store.h"

namespace orc {

int run_save_state_command(const std::vector<std::string>& args, const Config& config) {
  if (args.size() != 1 || args[0].empty() || args[0][0] == '-')
    throw UsageError("usage: orc dbt orchestra save-state <updates.json> (a state document "
                     "{\"state\": {...}} whose entries are merged into the configured store)");
  // The same save path a run's results take, so concurrent invocations exercise the store's
  // no-lost-update guarantee.
  StateChange change;
  change.merged = parse_state(read_file(args[0]), args[0]);
  std::unique_ptr<StateStore> store = open_state_store(config);
  store->apply(change);
  fmt::print("saved {} entries to {}\n", change.merged.entries.size(), store->describe());
  return 0;
}

}  // namespace orc
