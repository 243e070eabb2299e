#include "stores/cloud/http_headers.h"

namespace orc::remote {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

void add_header_line(std::string_view line, std::map<std::string, std::string>& headers) {
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(trim(line.substr(0, colon)));
    for (char& c : name)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    headers[name] = std::string(trim(line.substr(colon + 1)));
  } else if (line.substr(0, 5) == "HTTP/") {
    headers.clear();
  }
}

}  // namespace orc::remote
