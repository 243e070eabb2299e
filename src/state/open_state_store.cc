#include <fmt/format.h>

#include "config/config.h"
#include "core/error.h"
#include "state/backends/http_store.h"
#include "state/backends/local_file_store.h"
#include "state/backends/s3_store.h"
#include "state/state_location.h"
#include "state/state_store.h"

namespace orc {

std::unique_ptr<StateStore> open_state_store(const Config& config) {
  // 1. An API key selects Orchestra HTTP; file settings are then ignored.
  if (config.api_key) {
    return std::make_unique<HttpStateStore>(
        orchestra_state_url(config.orchestra_env,
                            config.env.get_nonempty("ORCHESTRA_API_BASE_URL").value_or("")),
        *config.api_key);
  }
  // 2./3. ORCHESTRA_STATE_FILE, else pyproject state_file (config resolved which one).
  if (!config.state_location) {
    throw Error(
        "stateful orchestration is on but no state store is configured: set ORCHESTRA_API_KEY "
        "(Orchestra HTTP), ORCHESTRA_STATE_FILE, or state_file under [tool.orchestra_dbt] in "
        "pyproject.toml");
  }
  const StateLocation loc =
      parse_state_location(*config.state_location, config.state_location_origin);
  switch (loc.kind) {
    case StateLocationKind::S3:
      return std::make_unique<S3Store>(loc.bucket, loc.key, config.env);
    case StateLocationKind::Gcs:
      throw Error(fmt::format("state location {} (from {}): Google Cloud Storage state is not "
                              "supported yet; use s3://, a local file or ORCHESTRA_API_KEY",
                              *config.state_location, config.state_location_origin));
    case StateLocationKind::Azure:
      throw Error(fmt::format("state location {} (from {}): Azure Blob Storage state is not "
                              "supported yet; use s3://, a local file or ORCHESTRA_API_KEY",
                              *config.state_location, config.state_location_origin));
    case StateLocationKind::Local:
      break;
  }
  return std::make_unique<LocalFileStore>(loc.path, config.state_location_origin);
}

}  // namespace orc
