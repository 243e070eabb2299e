#pragma once
// A small blocking HTTP client over libcurl: one request, one response, no retries here.
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace orc::remote {

/// One HTTP request. Header values are sent verbatim.
struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  long connect_timeout_ms = 10'000;
  long total_timeout_ms = 60'000;
};

/// What came back. `status` is 0 when no HTTP response arrived; `network_error` then says why.
struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  ///< lower-cased names -> last value
  std::string network_error;

  bool ok() const { return status >= 200 && status < 300; }
  /// A header's value, or "" when absent (`name` lower-case).
  std::string header(const std::string& name) const;
};

/// Performs `request`. Never throws for transport failures (they come back as status 0);
/// throws orc::Error only if libcurl cannot be set up at all.
HttpResponse http_perform(const HttpRequest& request);

/// Sleeps for `seconds` (fractional), used by retry loops.
void sleep_seconds(double seconds);

}  // namespace orc::remote
