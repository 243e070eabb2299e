#include "stores/cloud/url_parts.h"

namespace orc::remote {

UrlParts split_url(const std::string& url) {
  UrlParts p;
  auto scheme_end = url.find("://");
  size_t host_begin = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  auto path_begin = url.find('/', host_begin);
  p.scheme_host = url.substr(0, path_begin);
  p.host = url.substr(host_begin, path_begin == std::string::npos ? std::string::npos
                                                                  : path_begin - host_begin);
  p.path = path_begin == std::string::npos ? "/" : url.substr(path_begin);
  return p;
}

}  // namespace orc::remote
