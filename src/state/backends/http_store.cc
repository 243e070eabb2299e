#include "state/backends/http_store.h"

#include <cctype>
#include <fmt/format.h>

#include "core/error.h"
#include "core/log.h"

namespace orc {
namespace {

bool retryable(long status) { return status == 429 || status >= 500; }

/// A short, single-line, secret-free excerpt of a response body for messages.
std::string excerpt(const std::string& body) {
  std::string out;
  for (char ch : body.substr(0, 200)) out.push_back(ch == '\n' || ch == '\r' ? ' ' : ch);
  if (body.size() > 200) out += "...";
  return redact_secrets(out);
}

bool blank_document(const std::string& body) {
  std::string t;
  for (char ch : body)
    if (!std::isspace(static_cast<unsigned char>(ch))) t.push_back(ch);
  return t.empty() || t == "null" || t == "{}";
}

}  // namespace

std::string orchestra_state_url(const std::string& orchestra_env,
                                const std::string& base_url_override) {
  std::string base = base_url_override.empty()
                         ? fmt::format("https://{}.getorchestra.io", orchestra_env)
                         : base_url_override;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/api/engine/public/state/DBT_CORE";
}

HttpStateStore::HttpStateStore(std::string url, std::string api_key, HttpSender send)
    : url_(std::move(url)), api_key_(std::move(api_key)), send_(std::move(send)) {
  split_url(url_, "Orchestra API URL (ORCHESTRA_API_BASE_URL)");  // validates early
  add_log_secret(api_key_);
}

std::string HttpStateStore::describe() const { return "Orchestra API " + url_; }

HttpResponse HttpStateStore::send_with_retries(HttpRequest request) {
  request.headers.emplace_back("Authorization", "Bearer " + api_key_);
  request.headers.emplace_back("Accept", "application/json");
  request.timeout_ms = 60000;
  request.connect_timeout_ms = 10000;
  for (int attempt = 0;; ++attempt) {
    const bool last = attempt + 1 >= kAttempts;
    try {
      HttpResponse r = send_(request);
      if (!retryable(r.status) || last) return r;
      log_debug("{} {} answered HTTP {}; retrying", request.method, describe(), r.status);
    } catch (const NetworkError& e) {
      if (last) throw;
      log_debug("{} {} failed: {}; retrying", request.method, describe(), redact_secrets(e.what()));
    }
    sleep_ms(backoff_ms(attempt, 500, 4000));
  }
}

std::string HttpStateStore::rejected(const char* action, const HttpResponse& r) const {
  if (r.status == 401 || r.status == 403)
    return fmt::format("cannot {} state at {}: the API key was rejected (HTTP {}); check "
                       "ORCHESTRA_API_KEY and ORCHESTRA_ENV",
                       action, describe(), r.status);
  return fmt::format("cannot {} state at {}: HTTP {} {}", action, describe(), r.status,
                     excerpt(r.body));
}

HttpStateStore::Fetched HttpStateStore::fetch(bool& unreachable) {
  unreachable = false;
  HttpRequest req;
  req.method = "GET";
  req.url = url_;
  HttpResponse r;
  try {
    r = send_with_retries(req);
  } catch (const NetworkError& e) {
    unreachable = true;
    throw Error(fmt::format("cannot read state at {}: {} (after {} attempts)", describe(),
                            redact_secrets(e.what()), kAttempts));
  }
  Fetched f;
  if (r.status == 404) return f;  // confirmed absent: no state yet
  if (r.status >= 500 || r.status == 429) {
    unreachable = true;
    throw Error(fmt::format("cannot read state at {}: HTTP {} after {} attempts", describe(),
                            r.status, kAttempts));
  }
  if (r.status < 200 || r.status >= 300) throw Error(rejected("read", r));
  f.exists = true;
  f.etag = r.header("etag");
  if (!blank_document(r.body)) f.state = parse_state(r.body, describe());
  return f;
}

State HttpStateStore::load() {
  bool unreachable = false;
  try {
    Fetched f = fetch(unreachable);
    if (!f.exists) log_debug("{} has no state yet: starting from an empty state", describe());
    return std::move(f.state);
  } catch (const Error& e) {
    if (!unreachable) throw;
    log_warn("{}", e.what());
    log_warn("continuing with an empty state: every selected node will be built; the stored "
             "state will be re-read and merged before saving, never overwritten with less");
    return State{};
  }
}

void HttpStateStore::save_merged(const State& updates) {
  for (int attempt = 0; attempt < kMaxSaveAttempts; ++attempt) {
    bool unreachable = false;
    Fetched current;
    try {
      current = fetch(unreachable);
    } catch (const Error& e) {
      throw Error(fmt::format("{}; nothing was sent, so the stored state is unchanged and this "
                              "run's entries were not saved",
                              e.what()));
    }
    merge_state(current.state, updates);
    HttpRequest req;
    req.method = "PATCH";
    req.url = url_;
    req.body = serialize_state(current.state);
    req.headers.emplace_back("Content-Type", "application/json");
    if (!current.etag.empty()) req.headers.emplace_back("If-Match", current.etag);
    HttpResponse r;
    try {
      r = send_with_retries(req);
    } catch (const NetworkError& e) {
      throw Error(fmt::format("cannot save state at {}: {} (after {} attempts); this run's "
                              "entries were not saved",
                              describe(), redact_secrets(e.what()), kAttempts));
    }
    if (r.status >= 200 && r.status < 300) {
      log_debug("saved state to {} ({} entries)", describe(), current.state.entries.size());
      return;
    }
    if (r.status != 412) throw Error(rejected("save", r) + "; this run's entries were not saved");
    log_debug("{} changed since it was read (HTTP 412); merging again", describe());
    sleep_ms(backoff_ms(attempt, 50, 2000));
  }
  throw Error(fmt::format("cannot save state at {}: it kept changing under {} attempts; this "
                          "run's entries were not saved",
                          describe(), kMaxSaveAttempts));
}

}  // namespace orc
