#include <fmt/format.h>

#include "config/config.h"
#include "core/error.h"
#include "state/backends/local_file_store.h"
#include "state/state_store.h"

namespace orc {

std::unique_ptr<StateStore> open_state_store(const Config& config) {
  // TODO(remote state): ORCHESTRA_API_KEY -> HTTP; s3:// gs:// abfs(s):// -> object stores.
  if (!config.state_location) {
    throw Error(
        "stateful orchestration is on but no state store is configured: set ORCHESTRA_API_KEY "
        "(Orchestra HTTP), ORCHESTRA_STATE_FILE, or state_file under [tool.orchestra_dbt] in "
        "pyproject.toml");
  }
  return std::make_unique<LocalFileStore>(*config.state_location, config.state_location_origin);
}

}  // namespace orc
