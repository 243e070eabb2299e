#include "stores/gcs_store.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "core/environment.h"
#include "core/error.h"
#include "core/log.h"
#include "stores/cloud/aws_sigv4.h"
#include "stores/cloud/http_client.h"

namespace orc::remote {

namespace {

/// "HTTP 403 <reason>" from a JSON API error body ({"error":{"errors":[{"reason":...}]}}).
std::string describe_failure(const HttpResponse& r) {
  if (r.status == 0) return "network error: " + r.network_error;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view reason;
  if (!parser.parse(r.body).get(doc) && !doc["error"]["errors"].at(0)["reason"].get(reason))
    return fmt::format("HTTP {} {}", r.status, reason);
  return fmt::format("HTTP {}", r.status);
}

}  // namespace

std::string gcs_api_base(const Environment& env) {
  std::string base = env.get_nonempty("STORAGE_EMULATOR_HOST").value_or("https://storage.googleapis.com");
  if (base.find("://") == std::string::npos) base = "http://" + base;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

GcsStore::GcsStore(std::string bucket, std::string key, const Environment& env)
    : bucket_(std::move(bucket)), key_(std::move(key)), base_(gcs_api_base(env)), env_vars_(env.vars) {}

std::string GcsStore::describe() const { return fmt::format("gs://{}/{}", bucket_, key_); }

HttpRequest GcsStore::authorized(HttpRequest request) {
  if (!plan_) {
    plan_ = choose_gcs_credential(Environment{env_vars_}, describe());
    log_debug("Google credentials for {} from {}, endpoint {}", describe(), plan_->description, base_);
  }
  if (plan_->source != GcsCredentialSource::Emulator) {
    if (token_.empty()) token_ = acquire_gcs_token(*plan_, describe());
    request.headers.emplace_back("Authorization", "Bearer " + token_);
  }
  return request;
}

ObjectSnapshot GcsStore::fetch() {
  std::string object_url = fmt::format("{}/storage/v1/b/{}/o/{}", base_, aws_uri_encode(bucket_, false),
                                       aws_uri_encode(key_, false));
  HttpResponse r = perform_with_transient_retries(
      [&] {
        HttpRequest req;
        req.url = object_url + "?alt=media";
        return authorized(req);
      },
      "GET " + describe());
  if (r.status == 404) {
    // The JSON API answers 404 for a missing bucket too: ask about the bucket.
    HttpRequest req;
    req.url = fmt::format("{}/storage/v1/b/{}", base_, aws_uri_encode(bucket_, false));
    HttpResponse b = http_perform(authorized(req));
    if (b.status == 404)
      throw Error(fmt::format("cannot read state from {}: HTTP 404 (the bucket {} does not exist)",
                              describe(), bucket_));
    log_debug("{} does not exist yet: starting from empty state", describe());
    return ObjectSnapshot{State{}, std::nullopt};
  }
  if (r.status != 200) {
    std::string hint;
    if (r.status == 401 || r.status == 403)
      hint = " (check the Google credentials and their access to the bucket)";
    throw Error(fmt::format("cannot read state from {}: {}{}", describe(), describe_failure(r), hint));
  }
  std::string generation = r.header("x-goog-generation");
  if (generation.empty())
    throw Error(fmt::format("cannot read state from {}: the answer has no x-goog-generation header",
                            describe()));
  return ObjectSnapshot{parse_state(r.body, describe()), generation};
}

State GcsStore::load() { return fetch().state; }

void GcsStore::update(const std::function<void(State&)>& change) {
  update_with_retries(
      change, describe(), [&] { return fetch(); },
      [&](const State& merged, const ObjectSnapshot& snap) {
        HttpRequest req;
        req.method = "POST";
        req.url = fmt::format("{}/upload/storage/v1/b/{}/o?uploadType=media&name={}&ifGenerationMatch={}",
                              base_, aws_uri_encode(bucket_, false), aws_uri_encode(key_, false),
                              snap.version.value_or("0"));
        req.headers = {{"Content-Type", "application/json"}};
        req.body = serialize_state(merged);
        HttpResponse r = http_perform(authorized(req));
        if (r.ok()) return WriteAttempt{true, ""};
        if (r.status == 412) return WriteAttempt{false, describe_failure(r)};
        throw Error(fmt::format("cannot write state to {}: {}; the stored state is unchanged",
                                describe(), describe_failure(r)));
      });
}

}  // namespace orc::remote
