// libFuzzer target: what a remote state store answers besides the state document itself
// (that one is fuzz_state): HTTP header lines as libcurl hands them over
// (src/stores/cloud/http_headers.cc), the XML error and STS credential bodies of S3 and
// Azure Blob (xml_text.cc), and the state URI and URL splitting (state_uri.cc, url_parts.cc).
// Input: header lines, an empty line, then the body; the first line is also read as a URI.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/error.h"
#include "stores/cloud/http_headers.h"
#include "stores/state_uri.h"
#include "stores/cloud/url_parts.h"
#include "stores/cloud/xml_text.h"

/// libFuzzer entry point: folds the header lines, extracts the XML fields orc reads and
/// parses the first line as a state location and as a URL.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto blank = text.find("\r\n\r\n");
  std::string_view head = text.substr(0, blank);
  std::string_view body = blank == std::string_view::npos ? text : text.substr(blank + 4);
  std::map<std::string, std::string> headers;
  while (!head.empty()) {
    auto eol = head.find('\n');
    std::string_view line = head.substr(0, eol == std::string_view::npos ? head.size() : eol + 1);
    orc::remote::add_header_line(line, headers);
    head.remove_prefix(line.size());
  }
  for (const char* tag : {"Code", "Message", "AccessKeyId", "SecretAccessKey", "SessionToken"})
    orc::remote::xml_element_text(body, tag);
  std::string first_line(text.substr(0, text.find('\n')));
  try {
    orc::remote::parse_state_uri(first_line);
  } catch (const orc::Error&) {
  }
  orc::remote::split_url(first_line);
  return 0;
}
