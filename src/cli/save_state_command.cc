#include <fmt/format.h>

#include "cli/commands.h"
#include "config/config.h"
#include "core/error.h"
#include "core/file_io.h"
#include "state/state.h"
#include "state/state_store.h"

namespace orc {

int run_save_state_command(const std::vector<std::string>& args, const Config& config) {
  if (args.size() != 1 || args[0].empty() || args[0][0] == '-')
    throw UsageError("usage: orc dbt orchestra save-state <updates.json> (a state document "
                     "{\"state\": {...}} whose entries are merged into the configured store)");
  // The same save path a run's results take, so concurrent invocations exercise the store's
  // no-lost-update guarantee.
  State updates = parse_state(read_file(args[0]), args[0]);
  std::unique_ptr<StateStore> store = open_state_store(config);
  store->save_merged(updates);
  fmt::print("saved {} entries to {}\n", updates.entries.size(), store->describe());
  return 0;
}

}  // namespace orc
