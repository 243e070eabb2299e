#include <fmt/format.h>

#include "config/config.h"
#include "core/error.h"
#include "stores/local_file_store.h"
#include "stores/azure_blob_store.h"
#include "stores/gcs_store.h"
#include "stores/orchestra_http_store.h"
#include "stores/s3_store.h"
#include "stores/state_uri.h"
#include "stores/state_store.h"

namespace orc {

std::unique_ptr<StateStore> open_state_store(const Config& config) {
  // API key first: the file settings are then ignored (compatibility contract).
  if (config.api_key) {
    return std::make_unique<remote::OrchestraHttpStore>(
        remote::orchestra_state_url(config.env, config.orchestra_env), *config.api_key);
  }
  if (!config.state_location) {
    throw Error(
        "stateful orchestration is on but no state store is configured: set ORCHESTRA_API_KEY "
        "(Orchestra HTTP), ORCHESTRA_STATE_FILE, or state_file under [tool.orchestra_dbt] in "
        "pyproject.toml");
  }
  remote::StateUri uri = remote::parse_state_uri(*config.state_location);
  switch (uri.kind) {
    case remote::StateUriKind::S3:
      return std::make_unique<remote::S3Store>(uri.bucket, uri.key, config.env);
    case remote::StateUriKind::Azure:
      return std::make_unique<remote::AzureBlobStore>(uri.original, uri.account, uri.host,
                                                      uri.bucket, uri.key, config.env);
    case remote::StateUriKind::Gcs:
      return std::make_unique<remote::GcsStore>(uri.bucket, uri.key, config.env);
    case remote::StateUriKind::LocalPath:
      break;
  }
  return std::make_unique<LocalFileStore>(*config.state_location, config.state_location_origin);
}

}  // namespace orc
