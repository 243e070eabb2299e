#pragma once
// Splitting an http(s) URL into what request signing needs: origin, Host and path.
#include <string>

namespace orc::remote {

/// "scheme://host[:port]", the Host header value and the path (with any query) of a URL.
struct UrlParts {
  std::string scheme_host;  ///< e.g. http://127.0.0.1:9000
  std::string host;         ///< host[:port] as sent in the Host header
  std::string path;         ///< path (and query), starting with '/'
};

/// Splits `url`; a URL without a path has path "/".
UrlParts split_url(const std::string& url);

}  // namespace orc::remote
