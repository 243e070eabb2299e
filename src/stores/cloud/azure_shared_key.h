#pragma once
// Azure Storage request authorization that needs no network: SharedKey signing and SAS.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace orc::remote {

/// The parts of a Blob service request that SharedKey signs.
struct AzureSignRequest {
  std::string method;
  std::string account;
  std::string path;  ///< the URL path exactly as sent (percent-encoded), starting with '/'
  std::vector<std::pair<std::string, std::string>> query;    ///< decoded name/value pairs
  std::vector<std::pair<std::string, std::string>> headers;  ///< every header sent but Authorization
  size_t content_length = 0;
};

/// The string-to-sign of Microsoft's "Authorize with Shared Key" (version 2015-02-21 and
/// later): verb, the eleven standard headers (Content-Length empty when 0), the x-ms-*
/// headers lower-cased and sorted, then `/account/path` and the sorted query parameters.
std::string azure_shared_key_string_to_sign(const AzureSignRequest& request);

/// The `Authorization` value `SharedKey account:signature`, the signature being the base64
/// HMAC-SHA256 of the string-to-sign under the base64-decoded `account_key`. Throws
/// orc::Error (without the key) when the key is not base64.
std::string azure_shared_key_authorization(const AzureSignRequest& request,
                                           const std::string& account_key);

/// `url` with the SAS token's parameters appended (`sas` with or without its leading '?').
std::string append_sas(const std::string& url, const std::string& sas);

/// The current UTC time as an RFC 1123 date (`Sun, 06 Nov 1994 08:49:37 GMT`) for x-ms-date.
std::string rfc1123_date_now();

}  // namespace orc::remote
