#include "stores/cloud/aws_sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fmt/format.h>

#include "core/error.h"
#include "core/hmac.h"
#include "core/timestamp.h"
#include "core/sha256.h"

namespace orc::remote {

namespace {

std::string hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// Trims and collapses runs of spaces, as SigV4 canonical header values require.
std::string canonical_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

/// "a;b;c" and "a:v\nb:v\n" from the request's headers, sorted by lower-cased name.
std::pair<std::string, std::string> canonical_headers(const SigV4Request& request) {
  std::vector<std::pair<std::string, std::string>> hs;
  for (const auto& [n, v] : request.headers) {
    std::string name = lower(n);
    std::string value = canonical_value(v);
    auto it = std::find_if(hs.begin(), hs.end(), [&](const auto& h) { return h.first == name; });
    if (it != hs.end())
      it->second += "," + value;  // repeated headers join with commas
    else
      hs.emplace_back(name, value);
  }
  std::sort(hs.begin(), hs.end());
  std::string signed_names, block;
  for (const auto& [n, v] : hs) {
    if (!signed_names.empty()) signed_names += ';';
    signed_names += n;
    block += n + ":" + v + "\n";
  }
  return {signed_names, block};
}

}  // namespace

std::string aws_uri_encode(std::string_view text, bool keep_slash) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/'))
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string sigv4_canonical_request(const SigV4Request& request) {
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [n, v] : request.query)
    query.emplace_back(aws_uri_encode(n, false), aws_uri_encode(v, false));
  std::sort(query.begin(), query.end());
  std::string canonical_query;
  for (const auto& [n, v] : query) {
    if (!canonical_query.empty()) canonical_query += '&';
    canonical_query += n + "=" + v;
  }
  auto [signed_names, header_block] = canonical_headers(request);
  return fmt::format("{}\n{}\n{}\n{}\n{}\n{}", request.method,
                     request.path.empty() ? "/" : request.path, canonical_query, header_block,
                     signed_names, request.payload_sha256);
}

std::string sign_request(const SigV4Request& request, const AwsCredentials& credentials,
                         const std::string& region, const std::string& service,
                         const std::string& amz_date) {
  std::string date = amz_date.substr(0, 8);
  std::string scope = fmt::format("{}/{}/{}/aws4_request", date, region, service);
  std::string canonical = sigv4_canonical_request(request);
  std::string to_sign =
      fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", amz_date, scope, sha256_hex(canonical));
  std::string key = hmac_sha256("AWS4" + credentials.secret_access_key, date);
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, service);
  key = hmac_sha256(key, "aws4_request");
  std::string signature = hex(hmac_sha256(key, to_sign));
  return fmt::format("AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
                     credentials.access_key_id, scope, canonical_headers(request).first,
                     signature);
}

std::string amz_date_now() { return format_utc_now("%Y%m%dT%H%M%SZ"); }

}  // namespace orc::remote
