#pragma once
// AWS Signature Version 4, as a pure function of the request, the keys and the time.
#include <string>
#include <utility>
#include <vector>

namespace orc {

/// Keys to sign with. `source` says which link of the credential chain produced them (for
/// messages; never a secret).
struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  ///< "" when the keys are long-lived
  std::string source;
};

/// What SigV4 signs. `canonical_uri` is the path exactly as it will be sent (already
/// percent-encoded); `query` is the raw query string (re-encoded and sorted when signing);
/// `headers` are every header to sign, including host and x-amz-date.
struct SigV4Request {
  std::string method;
  std::string canonical_uri;
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_hash;  ///< hex SHA-256 of the body (or "UNSIGNED-PAYLOAD")
};

/// The intermediate and final products of signing (the intermediates make failures in the
/// test vectors easy to read).
struct SigV4Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;
  std::string signature;
  std::string authorization;  ///< the Authorization header value
};

/// Signs `request` for `region`/`service` at `amz_date` (YYYYMMDD'T'HHMMSS'Z').
SigV4Signature sigv4_sign(const SigV4Request& request, const AwsCredentials& credentials,
                          const std::string& region, const std::string& service,
                          const std::string& amz_date);

/// The canonical query string: each name and value URI-encoded, sorted by name then value.
std::string sigv4_canonical_query(const std::string& raw_query);

/// `YYYYMMDDTHHMMSSZ` for a Unix time in seconds.
std::string amz_date_from_unix(long long seconds);

/// HMAC-SHA256 of `data` keyed with `key`, as raw bytes.
std::string hmac_sha256(const std::string& key, const std::string& data);

}  // namespace orc
