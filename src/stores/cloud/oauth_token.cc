#include "stores/cloud/oauth_token.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "core/error.h"
#include "core/log.h"
#include "stores/cloud/aws_sigv4.h"
#include "stores/conditional_save.h"

namespace orc::remote {

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string body;
  for (const auto& [name, value] : fields) {
    if (!body.empty()) body += '&';
    body += aws_uri_encode(name, false) + "=" + aws_uri_encode(value, false);
  }
  return body;
}

HttpRequest form_post(const std::string& url,
                      const std::vector<std::pair<std::string, std::string>>& fields) {
  HttpRequest req;
  req.method = "POST";
  req.url = url;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"Accept", "application/json"}};
  req.body = form_encode(fields);
  req.connect_timeout_ms = 5000;
  req.total_timeout_ms = 30000;
  return req;
}

std::string fetch_access_token(const HttpRequest& request, const std::string& source,
                               const std::string& purpose, int attempts) {
  HttpResponse r = perform_with_transient_retries([&] { return request; }, source, attempts);
  std::string token, error;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!parser.parse(r.body).get(doc)) {
    std::string_view v;
    if (!doc["access_token"].get(v)) token = std::string(v);
    if (!doc["error"].get(v)) error = std::string(v);
  }
  if (!r.ok() || token.empty()) {
    std::string why = r.status == 0 ? "network error: " + r.network_error
                                    : fmt::format("HTTP {}", r.status);
    if (!error.empty()) why += " " + error;
    throw Error(fmt::format("cannot get an access token for {} from {} ({})", purpose, source,
                            why));
  }
  add_log_secret(token);
  return token;
}

}  // namespace orc::remote
