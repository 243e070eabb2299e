#include "cli/commands.h"
#include "core/error.h"

namespace orc {

int run_stateful_command(const std::string&, const std::vector<std::string>&, const Config&) {
  throw Error("stateful orchestration is not implemented yet");
}

}  // namespace orc
