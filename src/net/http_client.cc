#include "net/http_client.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <curl/curl.h>
#include <fmt/format.h>
#include <mutex>
#include <random>
#include <thread>

namespace orc {
namespace {

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();  // a new response (after a 100 Continue): keep only the final headers
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    (*headers)[name] = trim(line.substr(colon + 1));
  }
  return size * count;
}

struct CurlHandle {
  CURL* h = curl_easy_init();
  curl_slist* headers = nullptr;
  ~CurlHandle() {
    curl_slist_free_all(headers);
    if (h) curl_easy_cleanup(h);
  }
};

}  // namespace

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

HttpResponse http_send(const HttpRequest& request) {
  init_curl_once();
  CurlHandle c;
  if (!c.h) throw NetworkError("cannot initialise libcurl");
  HttpResponse response;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c.h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c.h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c.h, CURLOPT_TIMEOUT_MS, request.timeout_ms);
  curl_easy_setopt(c.h, CURLOPT_CONNECTTIMEOUT_MS, request.connect_timeout_ms);
  curl_easy_setopt(c.h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(c.h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c.h, CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(c.h, CURLOPT_USERAGENT, "orc/" ORC_VERSION);

  const std::string& m = request.method;
  const bool sends_body = !request.body.empty() || m == "PUT" || m == "POST" || m == "PATCH";
  if (m == "HEAD") {
    curl_easy_setopt(c.h, CURLOPT_NOBODY, 1L);
  } else if (m != "GET" || sends_body) {
    curl_easy_setopt(c.h, CURLOPT_CUSTOMREQUEST, m.c_str());
  }
  if (sends_body) {
    curl_easy_setopt(c.h, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c.h, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  // No "Expect: 100-continue" round trip; the body goes with the headers.
  c.headers = curl_slist_append(c.headers, "Expect:");
  for (const auto& [name, value] : request.headers) {
    // "Name;" is curl's way to send a header with an empty value.
    std::string line = value.empty() ? fmt::format("{};", name) : fmt::format("{}: {}", name, value);
    c.headers = curl_slist_append(c.headers, line.c_str());
  }
  curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, c.headers);

  CURLcode rc = curl_easy_perform(c.h);
  if (rc != CURLE_OK) {
    std::string detail = errbuf[0] ? std::string(errbuf) : curl_easy_strerror(rc);
    throw NetworkError(detail);
  }
  curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

std::string UrlParts::authority() const {
  return port.empty() ? host : fmt::format("{}:{}", host, port);
}

UrlParts split_url(const std::string& url, const std::string& what) {
  UrlParts p;
  auto sep = url.find("://");
  if (sep == std::string::npos)
    throw Error(fmt::format("{} \"{}\" is not an http:// or https:// URL", what, url));
  p.scheme = url.substr(0, sep);
  std::transform(p.scheme.begin(), p.scheme.end(), p.scheme.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (p.scheme != "http" && p.scheme != "https")
    throw Error(fmt::format("{} \"{}\" is not an http:// or https:// URL", what, url));
  std::string rest = url.substr(sep + 3);
  auto path_at = rest.find_first_of("/?");
  std::string authority = rest.substr(0, path_at);
  std::string tail = path_at == std::string::npos ? std::string() : rest.substr(path_at);
  if (authority.empty() || authority.find('@') != std::string::npos)
    throw Error(fmt::format("{} \"{}\" has no usable host", what, url));
  if (authority.front() == '[') {  // IPv6 literal
    auto close = authority.find(']');
    if (close == std::string::npos) throw Error(fmt::format("{} \"{}\" has a bad host", what, url));
    p.host = authority.substr(0, close + 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      p.port = authority.substr(close + 2);
  } else if (auto colon = authority.rfind(':'); colon != std::string::npos) {
    p.host = authority.substr(0, colon);
    p.port = authority.substr(colon + 1);
  } else {
    p.host = authority;
  }
  if ((p.scheme == "http" && p.port == "80") || (p.scheme == "https" && p.port == "443"))
    p.port.clear();  // curl leaves a default port out of the Host header
  auto q = tail.find('?');
  p.path = tail.substr(0, q);
  if (q != std::string::npos) p.query = tail.substr(q + 1);
  if (p.path.empty()) p.path.assign(1, '/');
  return p;
}

std::string uri_encode(std::string_view text, bool encode_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char ch : text) {
    const bool alnum = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
    if (alnum || ch == '-' || ch == '_' || ch == '.' || ch == '~' ||
        (ch == '/' && !encode_slash)) {
      out.push_back(static_cast<char>(ch));
    } else {
      out.push_back('%');
      out.push_back(hex[ch >> 4]);
      out.push_back(hex[ch & 0xF]);
    }
  }
  return out;
}

void sleep_ms(long ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

long backoff_ms(int attempt, long first_ms, long cap_ms) {
  long base = first_ms;
  for (int i = 0; i < attempt && base < cap_ms; ++i) base *= 2;
  base = std::min(base, cap_ms);
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<long> dist(base / 2, base);
  return dist(rng);
}

}  // namespace orc
