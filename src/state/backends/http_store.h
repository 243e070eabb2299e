#pragma once
// State held by the Orchestra API: GET to load, PATCH with the whole document to save.
#include <string>

#include "net/http_client.h"
#include "state/state_store.h"

namespace orc {

/// The Orchestra state endpoint, `Authorization: Bearer <ORCHESTRA_API_KEY>`.
///
/// Load failure policy. A 404 is "no state yet" (empty). A rejected key (401/403) or an
/// unreadable answer is an error before dbt runs. When the API cannot be reached (network
/// error or 5xx after every retry) the run goes on with an EMPTY state, as the reference does:
/// every selected node is rebuilt, which is always correct, and a state outage does not stop
/// a pipeline. Such a run never overwrites the server's state with less than it had: save
/// always re-reads the state first and merges this run's entries into it, and when that
/// read fails too, nothing is sent and save fails loudly.
///
/// Save: GET -> merge (newer last_updated wins) -> PATCH the merged document. When the GET
/// returned an ETag the PATCH carries `If-Match` and a 412 restarts the cycle; without one the
/// merge still keeps every entry the server had when it was read.
class HttpStateStore : public StateStore {
 public:
  HttpStateStore(std::string url, std::string api_key, HttpSender send = http_send);
  std::string describe() const override;
  State load() override;
  void save_merged(const State& updates) override;

  static constexpr int kAttempts = 4;           ///< per request, on network errors and 5xx
  static constexpr int kMaxSaveAttempts = 10;   ///< GET-merge-PATCH cycles on 412

 private:
  struct Fetched {
    bool exists = false;
    State state;
    std::string etag;
  };
  /// GET with retries. Throws orc::Error; `unreachable` tells a network/5xx failure apart.
  Fetched fetch(bool& unreachable);
  /// Sends with the bearer key, retrying network errors, 429 and 5xx. Network failure after
  /// the last attempt rethrows NetworkError; a final 5xx is returned.
  HttpResponse send_with_retries(HttpRequest request);
  std::string rejected(const char* action, const HttpResponse& r) const;

  std::string url_;
  std::string api_key_;
  HttpSender send_;
};

/// The Orchestra state URL: `https://{env}.getorchestra.io/api/engine/public/state/DBT_CORE`,
/// or the same path under `base_url_override` (ORCHESTRA_API_BASE_URL) when given.
std::string orchestra_state_url(const std::string& orchestra_env,
                                const std::string& base_url_override);

}  // namespace orc
