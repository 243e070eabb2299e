#include "stores/cloud/azure_shared_key.h"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>

#include "core/base64.h"
#include "core/error.h"
#include "core/hmac.h"
#include "core/timestamp.h"

namespace orc::remote {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// The value of header `name` (case-insensitive), or "".
std::string header_value(const AzureSignRequest& request, const std::string& name) {
  for (const auto& [n, v] : request.headers)
    if (lower(n) == name) return v;
  return "";
}

}  // namespace

std::string azure_shared_key_string_to_sign(const AzureSignRequest& request) {
  std::string s = request.method + "\n";
  for (const char* name : {"content-encoding", "content-language"})
    s += header_value(request, name) + "\n";
  s += (request.content_length ? std::to_string(request.content_length) : std::string()) + "\n";
  for (const char* name : {"content-md5", "content-type", "date", "if-modified-since", "if-match",
                           "if-none-match", "if-unmodified-since", "range"})
    s += header_value(request, name) + "\n";

  std::vector<std::pair<std::string, std::string>> ms;
  for (const auto& [n, v] : request.headers)
    if (lower(n).rfind("x-ms-", 0) == 0) ms.emplace_back(lower(n), v);
  std::sort(ms.begin(), ms.end());
  for (const auto& [n, v] : ms) s += n + ":" + v + "\n";

  s += "/" + request.account + request.path;
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [n, v] : request.query) {
    std::string name = lower(n);
    auto it = std::find_if(query.begin(), query.end(), [&](const auto& q) { return q.first == name; });
    if (it != query.end())
      it->second += "," + v;
    else
      query.emplace_back(name, v);
  }
  std::sort(query.begin(), query.end());
  for (const auto& [n, v] : query) s += "\n" + n + ":" + v;
  return s;
}

std::string azure_shared_key_authorization(const AzureSignRequest& request,
                                           const std::string& account_key) {
  std::optional<std::string> key = base64_decode(account_key);
  if (!key || key->empty())
    throw Error(fmt::format("the Azure storage account key for {} is not valid base64",
                            request.account));
  std::string signature =
      base64_encode(hmac_sha256(*key, azure_shared_key_string_to_sign(request)));
  return fmt::format("SharedKey {}:{}", request.account, signature);
}

std::string append_sas(const std::string& url, const std::string& sas) {
  std::string token = !sas.empty() && sas.front() == '?' ? sas.substr(1) : sas;
  if (token.empty()) return url;
  return url + (url.find('?') == std::string::npos ? "?" : "&") + token;
}

std::string rfc1123_date_now() { return format_utc_now("%a, %d %b %Y %H:%M:%S GMT"); }

}  // namespace orc::remote
