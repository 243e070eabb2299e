#include "cli/commands.h"
#include "core/error.h"

namespace orc {

int run_plan_command(const std::vector<std::string>&, const Config&) {
  throw Error("orc dbt orchestra plan is not implemented yet");
}

}  // namespace orc
