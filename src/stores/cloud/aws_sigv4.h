#pragma once
// AWS Signature Version 4: a pure function from a request description to its Authorization.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orc::remote {

/// AWS credentials (static or temporary). `source` says where they came from (for messages).
struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string source;
};

/// The parts of a request that SigV4 signs.
struct SigV4Request {
  std::string method;
  std::string path;   ///< the URI path exactly as sent (already percent-encoded), "/" if empty
  std::vector<std::pair<std::string, std::string>> query;  ///< decoded name/value pairs
  /// Headers to sign, including `host` and `x-amz-date` (and x-amz-security-token /
  /// x-amz-content-sha256 when used). Names are case-insensitive.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_sha256;  ///< hex SHA-256 of the body (or "UNSIGNED-PAYLOAD")
};

/// The canonical request (step 1 of SigV4), exposed for tests and debugging.
std::string sigv4_canonical_request(const SigV4Request& request);

/// The `Authorization` header value for `request` signed at `amz_date` (YYYYMMDDTHHMMSSZ).
std::string sign_request(const SigV4Request& request, const AwsCredentials& credentials,
                         const std::string& region, const std::string& service,
                         const std::string& amz_date);

/// RFC 3986 percent-encoding of everything but unreserved characters ('/' kept if asked).
std::string aws_uri_encode(std::string_view text, bool keep_slash);

/// The current UTC time as YYYYMMDDTHHMMSSZ.
std::string amz_date_now();

}  // namespace orc::remote
