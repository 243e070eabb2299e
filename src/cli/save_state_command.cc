#include "cli/commands.h"
#include "core/error.h"

namespace orc {

int run_save_state_command(const std::vector<std::string>&, const Config&) {
  throw Error("orc dbt orchestra save-state is not implemented yet");
}

}  // namespace orc
