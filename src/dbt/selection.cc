#include "dbt/selection.h"

#include <simdjson.h>

namespace orc {

std::vector<std::string> parse_ls_output(std::string_view text) {
  std::vector<std::string> ids;
  simdjson::dom::parser parser;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line.front() != '{') continue;
    simdjson::dom::element e;
    std::string_view id;
    if (parser.parse(line.data(), line.size()).get(e)) continue;
    if (e["unique_id"].get_string().get(id)) continue;
    ids.emplace_back(id);
  }
  return ids;
}

}  // namespace orc
