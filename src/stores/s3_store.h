#pragma once
// State as one S3 object: GET with ETag, merge, conditional PUT (If-Match / If-None-Match).
#include <map>
#include <optional>
#include <string>

#include "stores/cloud/aws_sigv4.h"
#include "stores/conditional_save.h"
#include "stores/state_store.h"

namespace orc {
struct Environment;
}

namespace orc::remote {

/// Where and how to reach the object (resolved once from the environment).
struct S3Location {
  std::string bucket;
  std::string key;
  std::string region;
  /// Endpoint override (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL): path-style addressing.
  std::optional<std::string> endpoint;
};

/// The URL of the object: `{endpoint}/{bucket}/{key}` (path-style) with an endpoint override,
/// else `https://{bucket}.s3.{region}.amazonaws.com/{key}`.
std::string s3_object_url(const S3Location& location);

class S3Store : public StateStore {
 public:
  /// Resolves region and endpoint from `env` now; credentials on first use.
  S3Store(std::string bucket, std::string key, const Environment& env);
  std::string describe() const override;
  /// Missing object (404 / NoSuchKey) -> empty state; anything else that is not 200 ->
  /// orc::Error naming s3://bucket/key and the HTTP status / S3 error code.
  State load() override;
  /// Re-GET (ETag), apply the change, PUT with If-Match (If-None-Match: * when absent); on 412/409
  /// starts over under the shared policy (update_with_retries), then orc::Error.
  void update(const std::function<void(State&)>& change) override;

 private:
  /// GET with transient retries; the version is the ETag.
  ObjectSnapshot fetch();
  const AwsCredentials& credentials();

  S3Location location_;
  std::map<std::string, std::string> env_vars_;  // copy of the environment (credentials are resolved lazily)
  std::optional<AwsCredentials> credentials_;
};

}  // namespace orc::remote
