#include "stores/s3_store.h"

#include <fmt/format.h>

#include "core/environment.h"
#include "core/error.h"
#include "core/log.h"
#include "core/sha256.h"
#include "stores/cloud/aws_credentials.h"
#include "stores/conditional_save.h"
#include "stores/cloud/http_client.h"
#include "stores/cloud/url_parts.h"
#include "stores/cloud/xml_text.h"

namespace orc::remote {

namespace {

/// The S3 error code from an XML error body (<Code>NoSuchKey</Code>), or "".
std::string s3_error_code(const std::string& body) { return xml_element_text(body, "Code"); }

std::string describe_failure(const HttpResponse& r) {
  if (r.status == 0) return "network error: " + r.network_error;
  std::string code = s3_error_code(r.body);
  return code.empty() ? fmt::format("HTTP {}", r.status) : fmt::format("HTTP {} {}", r.status, code);
}

}  // namespace

std::string s3_object_url(const S3Location& location) {
  std::string key = aws_uri_encode(location.key, true);
  if (location.endpoint) {
    std::string base = *location.endpoint;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return fmt::format("{}/{}/{}", base, location.bucket, key);
  }
  return fmt::format("https://{}.s3.{}.amazonaws.com/{}", location.bucket, location.region, key);
}

S3Store::S3Store(std::string bucket, std::string key, const Environment& env)
    : env_vars_(env.vars) {
  location_.bucket = std::move(bucket);
  location_.key = std::move(key);
  location_.region = resolve_aws_region(env);
  if (auto e = env.get_nonempty("AWS_ENDPOINT_URL_S3"))
    location_.endpoint = *e;
  else if (auto e2 = env.get_nonempty("AWS_ENDPOINT_URL"))
    location_.endpoint = *e2;
}

std::string S3Store::describe() const {
  return fmt::format("s3://{}/{}", location_.bucket, location_.key);
}

const AwsCredentials& S3Store::credentials() {
  if (!credentials_) {
    credentials_ = resolve_aws_credentials(Environment{env_vars_}, describe());
    add_log_secret(credentials_->secret_access_key);
    add_log_secret(credentials_->session_token);
  }
  return *credentials_;
}

namespace {

/// Builds and signs one S3 request for the object.
HttpRequest signed_request(const std::string& method, const S3Location& loc,
                           const AwsCredentials& creds, const std::string& body,
                           std::vector<std::pair<std::string, std::string>> extra_headers) {
  std::string url = s3_object_url(loc);
  UrlParts parts = split_url(url);
  std::string amz_date = amz_date_now();
  std::string payload_hash = sha256_hex(body);
  SigV4Request sig;
  sig.method = method;
  sig.path = parts.path;
  sig.payload_sha256 = payload_hash;
  sig.headers = {{"host", parts.host},
                 {"x-amz-date", amz_date},
                 {"x-amz-content-sha256", payload_hash}};
  if (!creds.session_token.empty()) sig.headers.emplace_back("x-amz-security-token", creds.session_token);
  for (const auto& h : extra_headers) sig.headers.push_back(h);

  HttpRequest req;
  req.method = method;
  req.url = url;
  req.body = body;
  req.connect_timeout_ms = 10'000;
  req.total_timeout_ms = 60'000;
  for (const auto& h : sig.headers)
    if (h.first != "host") req.headers.push_back(h);  // libcurl sends Host itself
  req.headers.emplace_back("Authorization", sign_request(sig, creds, loc.region, "s3", amz_date));
  return req;
}

}  // namespace

ObjectSnapshot S3Store::fetch() {
  HttpResponse r = perform_with_transient_retries(
      [&] { return signed_request("GET", location_, credentials(), "", {}); },
      "GET " + describe());
  if (r.status == 404 && (s3_error_code(r.body) == "NoSuchKey" || s3_error_code(r.body).empty())) {
    log_debug("{} does not exist yet: starting from empty state", describe());
    return ObjectSnapshot{State{}, std::nullopt};
  }
  if (r.status != 200) {
    std::string hint;
    if (r.status == 403) hint = " (check the AWS credentials and their access to the bucket)";
    if (r.status == 301 || s3_error_code(r.body) == "AuthorizationHeaderMalformed" ||
        s3_error_code(r.body) == "PermanentRedirect")
      hint = fmt::format(" (wrong region? using {}; set AWS_REGION)", location_.region);
    if (r.status == 404) hint = " (does the bucket exist?)";
    throw Error(fmt::format("cannot read state from {}: {}{}", describe(), describe_failure(r), hint));
  }
  std::string etag = r.header("etag");
  return ObjectSnapshot{parse_state(r.body, describe()), etag};
}

State S3Store::load() { return fetch().state; }

void S3Store::update(const std::function<void(State&)>& change) {
  update_with_retries(
      change, describe(), [&] { return fetch(); },
      [&](const State& merged, const ObjectSnapshot& snap) {
        std::vector<std::pair<std::string, std::string>> condition;
        if (snap.version && !snap.version->empty())
          condition.emplace_back("if-match", *snap.version);
        else if (!snap.version)
          condition.emplace_back("if-none-match", "*");
        condition.emplace_back("content-type", "application/json");
        HttpResponse r = http_perform(
            signed_request("PUT", location_, credentials(), serialize_state(merged), condition));
        if (r.ok()) return WriteAttempt{true, ""};
        bool conflict = r.status == 412 || r.status == 409 ||
                        s3_error_code(r.body) == "ConditionalRequestConflict";
        if (!conflict)
          throw Error(fmt::format("cannot write state to {}: {}; the stored state is unchanged",
                                  describe(), describe_failure(r)));
        return WriteAttempt{false, describe_failure(r)};
      });
}

}  // namespace orc::remote
