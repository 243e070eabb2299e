#include "dbt/sources_json.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "core/error.h"

namespace orc {

FreshnessMap read_sources_json(const std::filesystem::path& path) {
  simdjson::padded_string text;
  if (auto err = simdjson::padded_string::load(path.string()).get(text))
    throw Error(fmt::format("cannot read {}: {}", path.string(), simdjson::error_message(err)));
  return parse_sources_json(std::string_view(text.data(), text.size()), path.string());
}

FreshnessMap parse_sources_json(std::string_view json, const std::string& origin) {
  simdjson::padded_string text(json);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::array results;
  if (parser.parse(text).get(root) || root["results"].get_array().get(results))
    throw Error(fmt::format("{} is not a dbt sources.json (expected a \"results\" array)",
                            origin));
  FreshnessMap out;
  for (simdjson::dom::element r : results) {
    std::string_view id, ts;
    if (r["unique_id"].get_string().get(id)) continue;
    std::optional<std::string> value;
    if (!r["max_loaded_at"].get_string().get(ts))
      if (auto t = parse_timestamp(ts)) value = format_timestamp(*t);
    out[std::string(id)] = value;
  }
  return out;
}

}  // namespace orc
