#include "stores/orchestra_http_store.h"

#include <fmt/format.h>

#include "core/environment.h"
#include "core/error.h"
#include "core/log.h"
#include "stores/cloud/http_client.h"

namespace orc::remote {

namespace {

bool retryable(const HttpResponse& r) { return r.status == 0 || r.status >= 500; }

std::string outcome(const HttpResponse& r) {
  if (r.status == 0) return "network error: " + r.network_error;
  return fmt::format("HTTP {}", r.status);
}

}  // namespace

std::string orchestra_state_url(const Environment& env, const std::string& orchestra_env) {
  std::string base = env.get_nonempty("ORCHESTRA_API_BASE_URL")
                         .value_or(fmt::format("https://{}.getorchestra.io", orchestra_env));
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/api/engine/public/state/DBT_CORE";
}

OrchestraHttpStore::OrchestraHttpStore(std::string url, std::string api_key,
                                       HttpRetryPolicy policy)
    : url_(std::move(url)), api_key_(std::move(api_key)), policy_(policy) {}

std::string OrchestraHttpStore::describe() const { return "Orchestra API " + url_; }

namespace {

/// Sends one request with retries on 5xx and network errors (not on 4xx).
HttpResponse send_with_retries(HttpRequest request, const HttpRetryPolicy& policy,
                               const std::string& what) {
  HttpResponse response;
  double backoff = policy.first_backoff_s;
  for (int attempt = 1; attempt <= policy.attempts; ++attempt) {
    response = http_perform(request);
    if (!retryable(response)) return response;
    if (attempt < policy.attempts) {
      log_debug("{} failed ({}), retrying in {:.1f}s (attempt {}/{})", what, outcome(response),
                backoff, attempt + 1, policy.attempts);
      sleep_seconds(backoff);
      backoff *= 2;
    }
  }
  return response;
}

}  // namespace

State OrchestraHttpStore::load() {
  HttpRequest request;
  request.method = "GET";
  request.url = url_;
  request.headers = {{"Authorization", "Bearer " + api_key_}, {"Accept", "application/json"}};
  request.connect_timeout_ms = policy_.connect_timeout_ms;
  request.total_timeout_ms = policy_.total_timeout_ms;
  log_debug("loading state: GET {}", url_);
  HttpResponse r = send_with_retries(request, policy_, "GET " + url_);
  if (r.status == 404) {
    log_debug("no state stored at {} yet (404): starting empty", url_);
    return State{};
  }
  if (!r.ok()) {
    throw Error(fmt::format(
        "cannot load state from {} ({} after {} attempt(s)); not continuing without it, "
        "because a run on empty state would rebuild everything and its save could hide the "
        "stored entries. Check ORCHESTRA_API_KEY and the API, then retry",
        describe(), outcome(r), r.status >= 400 && r.status < 500 ? 1 : policy_.attempts));
  }
  return parse_state(r.body, describe());
}

void OrchestraHttpStore::update(const std::function<void(State&)>& change) {
  // The API has no precondition: merge with what is there now, so entries written by other
  // runs since our load survive (a run racing between this GET and the PATCH can still lose).
  State current;
  try {
    current = load();
  } catch (const Error& e) {
    throw Error(fmt::format("not saving state: {}", e.what()));
  }
  change(current);
  HttpRequest request;
  request.method = "PATCH";
  request.url = url_;
  request.headers = {{"Authorization", "Bearer " + api_key_},
                     {"Content-Type", "application/json"}};
  request.body = serialize_state(current);
  request.connect_timeout_ms = policy_.connect_timeout_ms;
  request.total_timeout_ms = policy_.total_timeout_ms;
  log_debug("saving state: PATCH {} ({} entries)", url_, current.entries.size());
  HttpResponse r = send_with_retries(request, policy_, "PATCH " + url_);
  if (!r.ok())
    throw Error(fmt::format("cannot save state to {} ({})", describe(), outcome(r)));
}

}  // namespace orc::remote
