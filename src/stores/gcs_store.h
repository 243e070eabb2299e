#pragma once
// State as one Google Cloud Storage object (JSON API): GET with its generation, merge,
// upload with ifGenerationMatch, under the retry policy every object store shares.
#include <map>
#include <optional>
#include <string>

#include "stores/conditional_save.h"
#include "stores/cloud/gcs_credentials.h"
#include "stores/state_store.h"

namespace orc {
struct Environment;
}

namespace orc::remote {

/// The JSON API base: STORAGE_EMULATOR_HOST (http:// added when it has no scheme), else
/// https://storage.googleapis.com.
std::string gcs_api_base(const Environment& env);

class GcsStore : public StateStore {
 public:
  /// Keeps a copy of `env`; credentials are chosen on first use.
  GcsStore(std::string bucket, std::string key, const Environment& env);
  std::string describe() const override;
  /// Missing object -> empty state; a missing bucket, 403, network failure or any other
  /// non-200 -> orc::Error naming gs://bucket/key.
  State load() override;
  /// Re-GET (generation), merge, upload with ifGenerationMatch (0 when absent); 412 starts
  /// over under update_with_retries, anything else -> orc::Error, nothing written.
  void update(const std::function<void(State&)>& change) override;

 private:
  /// GET with transient retries; the version is the x-goog-generation header.
  ObjectSnapshot fetch();
  /// `request` with the Authorization header (none against an emulator).
  HttpRequest authorized(HttpRequest request);

  std::string bucket_, key_, base_;
  std::map<std::string, std::string> env_vars_;
  std::optional<GcsCredentialPlan> plan_;
  std::string token_;
};

}  // namespace orc::remote
