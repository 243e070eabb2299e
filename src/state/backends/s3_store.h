#pragma once
// State in one S3 object (or an S3-compatible store): SigV4-signed GET and conditional PUT.
#include <optional>
#include <string>

#include "core/environment.h"
#include "net/http_client.h"
#include "state/aws/sigv4.h"
#include "state/state_store.h"

namespace orc {

/// s3://bucket/key. Region, endpoint and credentials come from `env` the way the AWS SDKs
/// read them (see aws_credentials.h); AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL switch to that
/// endpoint with path-style addressing.
class S3Store : public StateStore {
 public:
  S3Store(std::string bucket, std::string key, Environment env, HttpSender send = http_send);
  std::string describe() const override;
  /// A missing object (404 NoSuchKey) is an empty state; any other failure throws.
  State load() override;
  /// GET (remembering the ETag) -> merge -> PUT with If-Match: <etag> (If-None-Match: * when
  /// the object did not exist). A 412/409 means another run wrote in between: re-read, merge
  /// and try again, up to kMaxSaveAttempts times with jittered backoff, then throw.
  void save_merged(const State& updates) override;

  static constexpr int kMaxSaveAttempts = 10;

 private:
  struct Object {
    bool exists = false;
    std::string etag;
    std::string body;
  };
  Object get_object();
  /// Sends one signed request; retries network errors and 5xx (3 attempts in all).
  HttpResponse send_signed(const std::string& method, const std::string& body,
                           std::vector<std::pair<std::string, std::string>> extra_headers,
                           const char* action);
  [[noreturn]] void fail(const char* action, const HttpResponse& response) const;
  const AwsCredentials& credentials();

  std::string bucket_;
  std::string key_;
  Environment env_;
  HttpSender send_;
  std::string region_;
  std::string url_;  ///< the object's URL (virtual-hosted, or path-style on an endpoint override)
  std::optional<AwsCredentials> credentials_;
};

}  // namespace orc
