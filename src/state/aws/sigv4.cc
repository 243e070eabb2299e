#include "state/aws/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/sha256.h"
#include "net/http_client.h"

namespace orc {
namespace {

std::string to_hex(const std::string& bytes) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 0xF]);
  }
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// Trims and collapses runs of spaces, as the canonical header value requires.
std::string canonical_header_value(const std::string& v) {
  std::string out;
  bool space = false;
  for (char ch : v) {
    if (ch == ' ' || ch == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(ch);
  }
  return out;
}

/// Decodes %XX so that a query given already encoded is not encoded twice.
std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

std::string hmac_sha256(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string sigv4_canonical_query(const std::string& raw_query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= raw_query.size() && !raw_query.empty()) {
    size_t amp = raw_query.find('&', start);
    std::string_view part(raw_query.data() + start,
                          (amp == std::string::npos ? raw_query.size() : amp) - start);
    if (!part.empty()) {
      auto eq = part.find('=');
      std::string name = percent_decode(part.substr(0, eq));
      std::string value = eq == std::string_view::npos ? "" : percent_decode(part.substr(eq + 1));
      params.emplace_back(uri_encode(name, true), uri_encode(value, true));
    }
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [n, v] : params) {
    if (!out.empty()) out.push_back('&');
    out += n + "=" + v;
  }
  return out;
}

SigV4Signature sigv4_sign(const SigV4Request& request, const AwsCredentials& credentials,
                          const std::string& region, const std::string& service,
                          const std::string& amz_date) {
  // Canonical headers: lower-case names, sorted; values of repeated names joined by ','.
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [n, v] : request.headers) headers.emplace_back(lower(n), canonical_header_value(v));
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers, signed_headers;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      canonical_headers.pop_back();  // the '\n' of the previous line
      canonical_headers += "," + headers[i].second + "\n";
      continue;
    }
    canonical_headers += headers[i].first + ":" + headers[i].second + "\n";
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers += headers[i].first;
  }

  SigV4Signature s;
  s.signed_headers = signed_headers;
  s.canonical_request = fmt::format("{}\n{}\n{}\n{}\n{}\n{}", request.method,
                                    request.canonical_uri.empty() ? "/" : request.canonical_uri,
                                    sigv4_canonical_query(request.query), canonical_headers,
                                    signed_headers, request.payload_hash);
  const std::string date = amz_date.substr(0, 8);
  const std::string scope = fmt::format("{}/{}/{}/aws4_request", date, region, service);
  s.string_to_sign = fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", amz_date, scope,
                                 sha256_hex(s.canonical_request));
  std::string key = hmac_sha256("AWS4" + credentials.secret_access_key, date);
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, service);
  key = hmac_sha256(key, "aws4_request");
  s.signature = to_hex(hmac_sha256(key, s.string_to_sign));
  s.authorization = fmt::format("AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
                                credentials.access_key_id, scope, signed_headers, s.signature);
  return s;
}

std::string amz_date_from_unix(long long seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace orc
