#include "dbt/clone_manifest.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "core/json_writer.h"

namespace orc {
namespace od = simdjson::ondemand;

namespace {

/// One replaced value: `length` bytes at `offset` become `text`.
struct Splice {
  size_t offset = 0;
  size_t length = 0;
  std::string text;
};

std::string json_text(std::string_view value) {
  std::string out;
  append_json_string(out, value);
  return out;
}

}  // namespace

std::string clone_state_manifest(std::string_view manifest,
                                 const std::unordered_map<std::string, CloneSource>& sources,
                                 const std::string& origin) {
  simdjson::padded_string padded(manifest);
  std::vector<Splice> splices;
  try {
    od::parser parser;
    od::document doc = parser.iterate(padded);
    for (auto top : doc.get_object()) {
      if (std::string_view(top.unescaped_key()) != "nodes") continue;
      for (auto entry : top.value().get_object()) {
        auto it = sources.find(std::string(std::string_view(entry.unescaped_key())));
        if (it == sources.end()) continue;
        const CloneSource& from = it->second;
        for (auto field : entry.value().get_object()) {
          const std::string_view key = field.unescaped_key();
          std::string text;
          if (key == "database") text = json_text(from.parts.database);
          else if (key == "schema") text = json_text(from.parts.schema);
          else if (key == "alias") text = json_text(from.parts.identifier);
          else if (key == "relation_name") text = json_text(from.relation_name);
          else continue;
          std::string_view raw = field.value().raw_json_token();
          while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' ||
                                  raw.back() == '\r' || raw.back() == '\t'))
            raw.remove_suffix(1);
          splices.push_back({static_cast<size_t>(raw.data() - padded.data()), raw.size(),
                             std::move(text)});
        }
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    throw Error(fmt::format("{} is not a dbt manifest: {}", origin, e.what()));
  }
  std::sort(splices.begin(), splices.end(),
            [](const Splice& a, const Splice& b) { return a.offset < b.offset; });
  std::string out;
  out.reserve(manifest.size() + splices.size() * 32);
  size_t at = 0;
  for (const Splice& s : splices) {
    out.append(manifest.substr(at, s.offset - at));
    out += s.text;
    at = s.offset + s.length;
  }
  out.append(manifest.substr(at));
  return out;
}

}  // namespace orc
