#include "dbt/manifest_reader.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "core/error.h"
#include "core/mapped_file.h"
#include <optional>

namespace orc {
namespace od = simdjson::ondemand;

namespace {

/// The value as a string; "" for null or non-strings.
std::string str(od::value v) {
  if (v.type() != od::json_type::string) return {};
  return std::string(std::string_view(v.get_string()));
}

void read_build_after(od::value freshness, Node& node) {
  if (freshness.type() != od::json_type::object) return;
  for (auto f : freshness.get_object()) {
    if (std::string_view(f.unescaped_key()) != "build_after") continue;
    od::value ba = f.value();
    if (ba.type() != od::json_type::object) return;
    BuildAfter b;
    for (auto g : ba.get_object()) {
      std::string_view k = g.unescaped_key();
      od::value v = g.value();
      if (k == "count") {
        if (v.type() == od::json_type::number) b.count = v.get_int64();
      } else if (k == "period") {
        b.period = str(v);
      } else if (k == "updates_on") {
        b.updates_on_all = str(v) == "all";
      }
    }
    if (b.count > 0 && !b.period.empty()) node.build_after = b;
  }
}

void read_config(od::value config, Node& node) {
  if (config.type() != od::json_type::object) return;
  for (auto f : config.get_object()) {
    std::string_view k = f.unescaped_key();
    if (k == "materialized") {
      node.materialized = str(f.value());
    } else if (k == "freshness" && node.kind != NodeKind::Source) {
      read_build_after(f.value(), node);
    } else if (k == "loaded_at_field" && node.loaded_at_field.empty()) {
      node.loaded_at_field = str(f.value());
    } else if (k == "loaded_at_query" && node.loaded_at_query.empty()) {
      node.loaded_at_query = str(f.value());
    }
  }
}

void read_source_freshness(od::value v, Node& node) {
  if (v.type() != od::json_type::object) return;
  for (auto f : v.get_object())
    if (std::string_view(f.unescaped_key()) == "filter") node.freshness_filter = str(f.value());
}

Node read_node(std::string_view unique_id, od::object obj) {
  Node node;
  node.unique_id = std::string(unique_id);
  for (auto field : obj) {
    std::string_view k = field.unescaped_key();
    od::value v = field.value();
    if (k == "resource_type") {
      node.resource_type = str(v);
      node.kind = kind_from_resource_type(node.resource_type);
    } else if (k == "package_name") {
      node.package_name = str(v);
    } else if (k == "checksum") {
      // Nodes carry {"name": "sha256", "checksum": "..."}; unit tests a plain string.
      if (v.type() == od::json_type::string) {
        node.checksum = str(v);
        continue;
      }
      if (v.type() != od::json_type::object) continue;
      for (auto c : v.get_object())
        if (std::string_view(c.unescaped_key()) == "checksum") node.checksum = str(c.value());
    } else if (k == "config") {
      read_config(v, node);
    } else if (k == "depends_on") {
      if (v.type() != od::json_type::object) continue;
      for (auto d : v.get_object()) {
        if (std::string_view(d.unescaped_key()) != "nodes") continue;
        od::value arr = d.value();
        if (arr.type() != od::json_type::array) continue;
        for (auto item : arr.get_array())
          node.depends_on.emplace_back(std::string_view(item.get_string()));
      }
    } else if (k == "relation_name") {
      node.relation_name = str(v);
    } else if (k == "original_file_path") {
      node.original_file_path = str(v);
    } else if (k == "root_path") {
      node.root_path = str(v);
    } else if (k == "source_name") {
      node.source_name = str(v);
    } else if (k == "name") {
      node.name = str(v);
    } else if (k == "loaded_at_field") {
      if (auto s = str(v); !s.empty()) node.loaded_at_field = s;
    } else if (k == "loaded_at_query") {
      if (auto s = str(v); !s.empty()) node.loaded_at_query = s;
    } else if (k == "freshness") {
      read_source_freshness(v, node);  // nodes keep build_after under config.freshness
    }
  }
  // A unit test's kind comes from its section when resource_type is absent.
  return node;
}

void read_section(od::value section, Graph& graph, NodeKind default_kind) {
  if (section.type() != od::json_type::object) return;
  for (auto entry : section.get_object()) {
    std::string_view uid = entry.unescaped_key();
    od::value v = entry.value();
    if (v.type() != od::json_type::object) continue;
    Node node = read_node(uid, v.get_object());
    if (node.resource_type.empty() && default_kind != NodeKind::Other) {
      node.kind = default_kind;
      node.resource_type = default_kind == NodeKind::Source ? "source" : "unit_test";
    }
    graph.add(std::move(node));
  }
}

bool has_default_selector(od::value selectors) {
  if (selectors.type() != od::json_type::object) return false;
  bool found = false;
  for (auto sel : selectors.get_object()) {
    od::value v = sel.value();
    if (v.type() != od::json_type::object) continue;
    for (auto f : v.get_object()) {
      if (std::string_view(f.unescaped_key()) != "default") continue;
      od::value d = f.value();
      if (d.type() == od::json_type::boolean && bool(d.get_bool())) found = true;
    }
  }
  return found;
}

Graph parse_padded(const char* data, size_t size, size_t capacity, const std::string& origin) {
  Graph graph;
  graph.nodes.reserve(size / 4096 + 16);  // real manifests hold 5-15 KB per node
  graph.index.reserve(size / 4096 + 16);
  try {
    od::parser parser;
    od::document doc = parser.iterate(data, size, capacity);
    bool saw_nodes = false;
    for (auto field : doc.get_object()) {
      std::string_view k = field.unescaped_key();
      if (k == "metadata") {
        od::value meta = field.value();
        if (meta.type() != od::json_type::object) continue;
        for (auto m : meta.get_object())
          if (std::string_view(m.unescaped_key()) == "project_name")
            graph.root_project = str(m.value());
      } else if (k == "nodes") {
        saw_nodes = true;
        read_section(field.value(), graph, NodeKind::Other);
      } else if (k == "sources") {
        read_section(field.value(), graph, NodeKind::Source);
      } else if (k == "unit_tests") {
        read_section(field.value(), graph, NodeKind::UnitTest);
      } else if (k == "selectors") {
        graph.has_default_selector = has_default_selector(field.value());
      } else if (k == "functions") {
        read_section(field.value(), graph, NodeKind::Other);
      }
    }
    if (!saw_nodes)
      throw Error(fmt::format("{} is not a dbt manifest (no \"nodes\" object)", origin));
  } catch (const simdjson::simdjson_error& e) {
    throw Error(fmt::format("cannot parse dbt manifest {}: {}", origin, e.what()));
  }
  graph.link();
  return graph;
}

}  // namespace

Graph parse_manifest(std::string_view json, const std::string& origin) {
  simdjson::padded_string padded(json);
  return parse_padded(padded.data(), padded.size(), padded.size() + simdjson::SIMDJSON_PADDING,
                      origin);
}

Graph read_manifest(const std::filesystem::path& path) {
  std::optional<MappedFile> file;
  try {
    file.emplace(path, simdjson::SIMDJSON_PADDING);
  } catch (const Error& e) {
    throw Error(fmt::format("cannot read dbt manifest: {} (run dbt parse, or check "
                            "--project-dir/--target-path)",
                            e.what()));
  }
  return parse_padded(file->data(), file->size(), file->capacity(), path.string());
}

}  // namespace orc
