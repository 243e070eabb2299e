#include "stores/cloud/xml_text.h"

namespace orc::remote {

std::string xml_element_text(std::string_view xml, std::string_view tag) {
  std::string open = "<" + std::string(tag) + ">";
  std::string close = "</" + std::string(tag) + ">";
  auto b = xml.find(open);
  if (b == std::string_view::npos) return "";
  b += open.size();
  auto e = xml.find(close, b);
  return e == std::string_view::npos ? "" : std::string(xml.substr(b, e - b));
}

}  // namespace orc::remote
