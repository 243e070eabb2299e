#pragma once
// State held by the Orchestra API: GET loads, PATCH with the whole document saves.
#include <string>

#include "stores/state_store.h"

namespace orc {
struct Environment;
}

namespace orc::remote {

/// Retry schedule for the Orchestra API (also used to keep tests fast).
struct HttpRetryPolicy {
  int attempts = 4;                 ///< total tries per request
  double first_backoff_s = 0.5;     ///< doubles after each failed try (0.5, 1, 2)
  long connect_timeout_ms = 10'000;
  long total_timeout_ms = 60'000;
};

class OrchestraHttpStore : public StateStore {
 public:
  /// `url` is the state endpoint; `api_key` is sent as a bearer token and never printed.
  OrchestraHttpStore(std::string url, std::string api_key, HttpRetryPolicy policy = {});
  std::string describe() const override;
  /// 404 -> empty state; other failures after retries -> orc::Error (never empty).
  State load() override;
  /// Re-GETs, applies the change, PATCHes the whole document. If the re-GET fails
  /// nothing is sent.
  void update(const std::function<void(State&)>& change) override;

 private:
  std::string url_;
  std::string api_key_;
  HttpRetryPolicy policy_;
};

/// The state endpoint: `{base}/api/engine/public/state/DBT_CORE` with base from
/// ORCHESTRA_API_BASE_URL, else `https://{orchestra_env}.getorchestra.io`.
std::string orchestra_state_url(const Environment& env, const std::string& orchestra_env);

}  // namespace orc::remote
