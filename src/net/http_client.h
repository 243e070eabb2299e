#pragma once
// One HTTP request over libcurl: the only place orc talks to the network.
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace orc {

/// A request as orc sends it. Header names are sent as given.
struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;                ///< sent for any method when non-empty (and for PUT/POST/PATCH)
  long timeout_ms = 30000;         ///< whole transfer
  long connect_timeout_ms = 10000;
};

/// What came back. Header names are lower-cased; a repeated header keeps its last value.
struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;
  std::string body;

  /// The value of a header (name in lower case), or "" when absent.
  std::string header(const std::string& lower_name) const;
};

/// The request never got an HTTP answer (DNS, connect, TLS, timeout, reset).
struct NetworkError : Error {
  explicit NetworkError(const std::string& message) : Error(message) {}
};

/// Performs `request` without following redirects and returns whatever status the server
/// answered. Throws NetworkError (curl's own description, without the URL's query or any
/// header value) when no answer arrived.
HttpResponse http_send(const HttpRequest& request);

/// How backends send requests: http_send in production, a recorder in unit tests.
using HttpSender = std::function<HttpResponse(const HttpRequest&)>;

/// The scheme://host[:port] part and the rest of a URL, split for signing and messages.
struct UrlParts {
  std::string scheme;     ///< "http" / "https"
  std::string host;       ///< without port
  std::string port;       ///< "" when not given
  std::string path;       ///< starts with '/', "/" when empty; without the query
  std::string query;      ///< after '?', "" when none
  /// host[:port] as the Host header carries it.
  std::string authority() const;
};

/// Splits an absolute http(s) URL. Throws orc::Error naming `what` when it is not one.
UrlParts split_url(const std::string& url, const std::string& what);

/// Percent-encodes everything but RFC 3986 unreserved characters (and '/' unless
/// `encode_slash`), as AWS SigV4 and query strings need.
std::string uri_encode(std::string_view text, bool encode_slash);

/// Sleeps `ms` milliseconds (backoff between retries).
void sleep_ms(long ms);

/// A random delay in [base/2, base] milliseconds for attempt-based exponential backoff
/// ("equal jitter"): base = min(cap_ms, first_ms * 2^attempt).
long backoff_ms(int attempt, long first_ms, long cap_ms);

}  // namespace orc
