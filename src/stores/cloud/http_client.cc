#include "stores/cloud/http_client.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <curl/curl.h>
#include <mutex>
#include <thread>

#include "core/ca_bundle.h"
#include "core/error.h"
#include "stores/cloud/http_headers.h"

namespace orc::remote {

namespace {

void global_init_once() {
  static std::once_flag flag;
  std::call_once(flag, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  add_header_line(std::string_view(data, size * count),
                  *static_cast<std::map<std::string, std::string>*>(user));
  return size * count;
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

HttpResponse http_perform(const HttpRequest& request) {
  global_init_once();
  HttpResponse response;
  CURL* curl = curl_easy_init();
  if (!curl) throw Error("cannot initialise libcurl");
  curl_slist* header_list = nullptr;
  for (const auto& [name, value] : request.headers)
    header_list = curl_slist_append(header_list, (name + ": " + value).c_str());
  // libcurl would otherwise add "Expect: 100-continue" to larger bodies and wait for it.
  header_list = curl_slist_append(header_list, "Expect:");

  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!request.body.empty() || request.method == "PUT" || request.method == "PATCH" ||
      request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, request.connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, request.total_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  // The wheel's bundled libcurl would look for CAs where its build machine keeps them.
  const CaBundle& ca = process_ca_bundle();
  if (ca.file) curl_easy_setopt(curl, CURLOPT_CAINFO, ca.file->c_str());
  if (ca.directory) curl_easy_setopt(curl, CURLOPT_CAPATH, ca.directory->c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  // Never send credentials on to another host, and never follow redirects silently.
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);

  CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) {
    response.status = 0;
    response.network_error = error_buffer[0] ? error_buffer : curl_easy_strerror(rc);
  } else {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  }
  curl_slist_free_all(header_list);
  curl_easy_cleanup(curl);
  return response;
}

void sleep_seconds(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

}  // namespace orc::remote
