#pragma once
// Getting an OAuth 2.0 access token over HTTP (Azure AD, Google token endpoints, metadata
// servers): one request, a JSON answer with `access_token`, clear errors without secrets.
#include <string>
#include <utility>
#include <vector>

#include "stores/cloud/http_client.h"

namespace orc::remote {

/// `application/x-www-form-urlencoded` body from name/value pairs (RFC 3986 encoding).
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

/// A POST request of `fields` as a form to `url`, with short timeouts.
HttpRequest form_post(const std::string& url,
                      const std::vector<std::pair<std::string, std::string>>& fields);

/// Performs `request` (transient failures retried, `attempts` in all) and returns the `access_token` of its
/// JSON answer, registered as a log secret. Throws orc::Error naming `purpose` (e.g. the
/// state URI) and `source` (e.g. "Azure AD client credentials at https://...") with the HTTP
/// status and the answer's error code, never the request body.
std::string fetch_access_token(const HttpRequest& request, const std::string& source,
                               const std::string& purpose, int attempts = 4);

}  // namespace orc::remote
