#include "state/backends/s3_store.h"

#include <chrono>
#include <fmt/format.h>

#include "core/error.h"
#include "core/log.h"
#include "core/sha256.h"
#include "state/aws/aws_credentials.h"

namespace orc {
namespace {

constexpr int kTransientAttempts = 3;

bool transient_status(long status) {
  return status == 500 || status == 502 || status == 503 || status == 504;
}

long long unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

S3Store::S3Store(std::string bucket, std::string key, Environment env, HttpSender send)
    : bucket_(std::move(bucket)), key_(std::move(key)), env_(std::move(env)), send_(std::move(send)) {
  region_ = resolve_aws_region(env_);
  const std::string encoded_key = uri_encode(key_, false);
  std::optional<std::string> endpoint = env_.get_nonempty("AWS_ENDPOINT_URL_S3");
  if (!endpoint) endpoint = env_.get_nonempty("AWS_ENDPOINT_URL");
  if (endpoint) {
    std::string base = *endpoint;
    while (!base.empty() && base.back() == '/') base.pop_back();
    split_url(base, "AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL");  // validates
    url_ = fmt::format("{}/{}/{}", base, uri_encode(bucket_, true), encoded_key);
  } else if (bucket_.find('.') != std::string::npos) {
    // Dotted bucket names do not match the wildcard TLS certificate: path-style.
    url_ = fmt::format("https://s3.{}.amazonaws.com/{}/{}", region_, bucket_, encoded_key);
  } else {
    url_ = fmt::format("https://{}.s3.{}.amazonaws.com/{}", bucket_, region_, encoded_key);
  }
}

std::string S3Store::describe() const { return fmt::format("s3://{}/{}", bucket_, key_); }

const AwsCredentials& S3Store::credentials() {
  if (!credentials_) {
    try {
      credentials_ = resolve_aws_credentials(env_, send_);
    } catch (const Error& e) {
      throw Error(fmt::format("cannot access state {}: {}", describe(), e.what()));
    }
    log_debug("S3 state {}: credentials from {}, region {}", describe(), credentials_->source,
              region_);
  }
  return *credentials_;
}

HttpResponse S3Store::send_signed(const std::string& method, const std::string& body,
                                  std::vector<std::pair<std::string, std::string>> extra_headers,
                                  const char* action) {
  const AwsCredentials& creds = credentials();
  const UrlParts parts = split_url(url_, "S3 URL");
  for (int attempt = 0;; ++attempt) {
    HttpRequest req;
    req.method = method;
    req.url = url_;
    req.body = body;
    const std::string payload_hash = sha256_hex(body);
    req.headers = {{"Host", parts.authority()},
                   {"x-amz-date", amz_date_from_unix(unix_now())},
                   {"x-amz-content-sha256", payload_hash}};
    if (!creds.session_token.empty())
      req.headers.emplace_back("x-amz-security-token", creds.session_token);
    for (auto& h : extra_headers) req.headers.push_back(h);
    SigV4Request to_sign{method, parts.path, parts.query, req.headers, payload_hash};
    const std::string date = req.headers[1].second;
    req.headers.emplace_back("Authorization",
                             sigv4_sign(to_sign, creds, region_, "s3", date).authorization);
    const bool last = attempt + 1 >= kTransientAttempts;
    try {
      HttpResponse resp = send_(req);
      if (!transient_status(resp.status) || last) return resp;
      log_debug("S3 {} {} answered HTTP {}; retrying", action, describe(), resp.status);
    } catch (const NetworkError& e) {
      if (last)
        throw Error(fmt::format("cannot {} state {}: S3 endpoint {} not reachable ({}); the "
                                "stored state was not changed",
                                action, describe(), parts.scheme + "://" + parts.authority(),
                                e.what()));
      log_debug("S3 {} {}: {}; retrying", action, describe(), e.what());
    }
    sleep_ms(backoff_ms(attempt, 200, 2000));
  }
}

void S3Store::fail(const char* action, const HttpResponse& r) const {
  const std::string code = xml_tag_text(r.body, "Code");
  const std::string message = xml_tag_text(r.body, "Message");
  const std::string what = fmt::format("HTTP {}{}{}", r.status, code.empty() ? "" : " " + code,
                                       message.empty() ? "" : " (" + message + ")");
  std::string hint;
  const std::string bucket_region = r.header("x-amz-bucket-region");
  if (!bucket_region.empty() && bucket_region != region_) {
    hint = fmt::format("bucket {} is in region {}, not {}: set AWS_REGION={}", bucket_, bucket_region,
                       region_, bucket_region);
  } else if (r.status == 301 || code == "AuthorizationHeaderMalformed" ||
             code == "PermanentRedirect") {
    hint = fmt::format("bucket {} is not in region {}: set AWS_REGION to the bucket's region",
                       bucket_, region_);
  } else if (r.status == 403) {
    hint = fmt::format("access denied to bucket {} key {} with credentials from {}: check the "
                       "keys and that they allow s3:GetObject and s3:PutObject",
                       bucket_, key_, credentials_ ? credentials_->source : "?");
  } else if (code == "NoSuchBucket") {
    hint = fmt::format("bucket {} does not exist", bucket_);
  }
  throw Error(fmt::format("cannot {} state {}: {}{}; the stored state was not changed", action,
                          describe(), what, hint.empty() ? "" : " - " + hint));
}

S3Store::Object S3Store::get_object() {
  HttpResponse r = send_signed("GET", "", {}, "read");
  Object obj;
  if (r.status == 200) {
    obj.exists = true;
    obj.etag = r.header("etag");
    obj.body = std::move(r.body);
    return obj;
  }
  if (r.status == 404 && xml_tag_text(r.body, "Code") != "NoSuchBucket") return obj;  // absent
  fail("read", r);
}

State S3Store::load() {
  Object obj = get_object();
  if (!obj.exists) {
    log_debug("S3 state {} does not exist yet: starting from an empty state", describe());
    return State{};
  }
  return parse_state(obj.body, describe());
}

void S3Store::save_merged(const State& updates) {
  for (int attempt = 0; attempt < kMaxSaveAttempts; ++attempt) {
    Object obj = get_object();
    State current = obj.exists ? parse_state(obj.body, describe()) : State{};
    merge_state(current, updates);
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Content-Type", "application/json"}};
    if (obj.exists && !obj.etag.empty()) {
      headers.emplace_back("If-Match", obj.etag);
    } else if (!obj.exists) {
      headers.emplace_back("If-None-Match", "*");
    }
    HttpResponse r = send_signed("PUT", serialize_state(current), headers, "write");
    if (r.status == 200) {
      log_debug("S3 state {} written ({} entries, attempt {})", describe(),
                current.entries.size(), attempt + 1);
      return;
    }
    // 412: the object changed (or appeared) since we read it; 409: a concurrent conditional
    // write is in flight. Either way another run wrote: read again and merge with its entries.
    if (r.status != 412 && r.status != 409) fail("write", r);
    log_debug("S3 state {} changed since it was read (HTTP {}); merging again", describe(),
              r.status);
    sleep_ms(backoff_ms(attempt, 50, 2000));
  }
  throw Error(fmt::format("cannot write state {}: it kept changing under {} attempts (other runs "
                          "writing at the same time); this run's entries were not saved",
                          describe(), kMaxSaveAttempts));
}

}  // namespace orc
