#include "dbt/manifest_reader.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <unordered_map>

#include "core/error.h"
#include "core/fast_hash.h"
#include "core/mapped_file.h"
#include "plan/fingerprint.h"

namespace orc {
namespace od = simdjson::ondemand;

namespace {

/// Where the reader is inside the manifest, for error messages: views into the parser's
/// string buffer (valid for the whole parse), so keeping it current costs no allocation.
struct Where {
  std::string_view section;  ///< top-level key ("nodes", "macros", ...)
  std::string_view entry;    ///< unique_id inside the section
  std::string_view field;    ///< field of the entry
  std::string_view sub;      ///< key inside that field (a config key, "nodes" of depends_on)

  /// `nodes."model.a.b".config.materialized`, as far as known.
  std::string path() const {
    if (section.empty()) return "the top level";
    std::string out(section);
    if (!entry.empty()) out += fmt::format(".\"{}\"", entry);
    if (!field.empty()) out += fmt::format(".{}", field);
    if (!sub.empty()) out += fmt::format(".{}", sub);
    return out;
  }
};

/// A field's key as written between its quotes, without unescaping it into the parser's string
/// buffer: a view into the document. dbt's own keys never hold escapes; a user's key (a config
/// key, a column name) that does is compared and hashed in its escaped form, the same on
/// every run.
template <class Field>
std::string_view raw_key(Field& f) {
  const char* begin = f.key().raw();
  const char* p = begin;
  while (*p != '"') p += *p == '\\' ? 2 : 1;
  return {begin, static_cast<size_t>(p - begin)};
}

/// The value as a string; "" for null. Anything else (a number where a string belongs) throws
/// simdjson's INCORRECT_TYPE, which parse_padded reports with the path.
std::string str(od::value v) {
  if (v.type() == od::json_type::null) return {};
  return std::string(std::string_view(v.get_string()));
}

/// Throws INCORRECT_TYPE unless `v` is an object (null, for an optional section, is allowed
/// when `allow_null`).
bool require_object(od::value v, bool allow_null) {
  od::json_type t = v.type();
  if (t == od::json_type::object) return true;
  if (allow_null && t == od::json_type::null) return false;
  throw simdjson::simdjson_error(simdjson::INCORRECT_TYPE);
}

void read_build_after(od::value freshness, Node& node) {
  if (freshness.type() != od::json_type::object) return;
  for (auto f : freshness.get_object()) {
    if (raw_key(f) != "build_after") continue;
    od::value ba = f.value();
    if (ba.type() != od::json_type::object) return;
    BuildAfter b;
    for (auto g : ba.get_object()) {
      std::string_view k = raw_key(g);
      od::value v = g.value();
      if (k == "count") {
        // dbt 1.12 allows build_after without count/period; a count may be written 2.0.
        if (v.type() == od::json_type::number) {
          double count = v.get_double();
          b.count = count >= 1 ? static_cast<int64_t>(count) : 0;
        }
      } else if (k == "period") {
        b.period = str(v);
      } else if (k == "updates_on") {
        b.updates_on_all = str(v) == "all";
      }
    }
    if (b.count > 0 && !b.period.empty()) node.build_after = b;
  }
}

/// A value's JSON text as written (objects and arrays whole), consuming it.
std::string_view raw_of(od::value v) {
  switch (v.type()) {
    case od::json_type::object: {
      od::object o = v.get_object();
      return o.raw_json();
    }
    case od::json_type::array: {
      od::array a = v.get_array();
      return a.raw_json();
    }
    default: return v.raw_json_token();
  }
}

/// "null", "[]", "{}", "\"\"" (after minifying): a config value equivalent to an absent key.
bool is_empty_json(std::string_view minified) {
  return minified.empty() || minified == "null" || minified == "[]" || minified == "{}" ||
         minified == "\"\"";
}

/// The interned id of a config key.
uint32_t config_key_id(Graph& graph, std::string_view key,
                       std::unordered_map<std::string, uint32_t>& ids) {
  auto it = ids.find(std::string(key));
  if (it != ids.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(graph.config_keys.size());
  graph.config_keys.emplace_back(key);
  ids.emplace(std::string(key), id);
  return id;
}

/// `orc.change_marker` of a source's meta object: nullopt when absent; a value that is not a
/// boolean throws INCORRECT_TYPE (reported at `where`, whose `sub` it sets). An `orc` key that
/// is not an object belongs to someone else and is ignored.
std::optional<bool> orc_change_marker(od::value meta, Where& where) {
  if (meta.type() != od::json_type::object) return std::nullopt;
  std::optional<bool> out;
  for (auto m : meta.get_object()) {
    if (raw_key(m) != "orc") continue;
    od::value orc = m.value();
    if (orc.type() != od::json_type::object) continue;
    for (auto o : orc.get_object()) {
      if (raw_key(o) != "change_marker") continue;
      where.sub = "meta.orc.change_marker";
      out = bool(o.value().get_bool());
    }
  }
  return out;
}

/// Reads what the decision needs from `config` and hashes every result-affecting key.
/// Returns whether the node's contract is enforced.
bool read_config(od::value config, Node& node, Graph& graph,
                 std::unordered_map<std::string, uint32_t>& key_ids, Where& where) {
  if (!require_object(config, true)) return false;
  bool contract_enforced = false;
  for (auto f : config.get_object()) {
    std::string_view k = raw_key(f);
    where.sub = k;
    od::value v = f.value();
    if (k == "freshness" && node.kind != NodeKind::Source) {
      read_build_after(v, node);
      continue;
    }
    if (k == "loaded_at_field" && node.loaded_at_field.empty()) {
      node.loaded_at_field = str(v);
      continue;
    }
    if (k == "loaded_at_query" && node.loaded_at_query.empty()) {
      node.loaded_at_query = str(v);
      continue;
    }
    if (node.kind == NodeKind::Source) {  // sources are not fingerprinted
      // config.meta (dbt >= 1.10: the source's and the table's meta merged) decides.
      if (k == "meta")
        if (auto marker = orc_change_marker(v, where)) node.change_marker = marker;
      continue;
    }
    if (k == "materialized") {
      node.materialized = str(v);
      node.config.emplace_back(config_key_id(graph, k, key_ids),
                               fast_hash(node.materialized));
      continue;
    }
    if (k == "volatile") {
      if (v.type() == od::json_type::boolean) node.volatile_config = bool(v.get_bool());
      continue;
    }
    if (!config_key_affects_result(k)) continue;
    std::string minified = minify_json(raw_of(v));
    if (is_empty_json(minified)) continue;
    if (k == "pre-hook" || k == "post-hook") node.hooks_text += minified;
    if (k == "contract" && minified.find("\"enforced\":true") != std::string::npos)
      contract_enforced = true;
    node.config.emplace_back(config_key_id(graph, k, key_ids), fast_hash(minified));
  }
  return contract_enforced;
}

/// Hash of what an enforced contract turns into DDL: each column's name, data_type,
/// constraints and quoting (descriptions, meta and tags do not count).
/// `columns_json` is a view into the document being parsed, so the document's padding follows it.
uint64_t hash_contract_columns(std::string_view columns_json) {
  od::parser parser;
  od::document doc = parser.iterate(columns_json.data(), columns_json.size(),
                                    columns_json.size() + simdjson::SIMDJSON_PADDING);
  od::value columns = doc.get_value();
  HashBuilder h;
  if (columns.type() != od::json_type::object) return h.value();
  for (auto c : columns.get_object()) {
    h.add(raw_key(c));
    od::value col = c.value();
    if (col.type() != od::json_type::object) continue;
    for (auto f : col.get_object()) {
      std::string_view k = raw_key(f);
      if (k == "data_type" || k == "constraints" || k == "quote" || k == "name") {
        h.add(k);
        h.add(minify_json(raw_of(f.value())));
      }
    }
  }
  return h.value();
}

void read_source_freshness(od::value v, Node& node) {
  if (v.type() != od::json_type::object) return;
  for (auto f : v.get_object())
    if (raw_key(f) == "filter") node.freshness_filter = str(f.value());
}

Node read_node(std::string_view unique_id, od::object obj, Graph& graph,
               std::unordered_map<std::string, uint32_t>& key_ids, NodeKind default_kind,
               Where& where) {
  Node node;
  node.unique_id = std::string(unique_id);
  if (default_kind == NodeKind::Source) node.kind = NodeKind::Source;
  bool contract_enforced = false;
  std::optional<uint64_t> node_constraints;
  std::string_view columns_json;  // hashed only when the contract is enforced (rare)
  // Sources: the table's meta and its source's (older dbt keeps them apart), below config.meta.
  std::optional<bool> table_marker, source_marker;
  for (auto field : obj) {
    std::string_view k = raw_key(field);
    where.field = k;
    where.sub = {};
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
        if (raw_key(c) == "checksum") node.checksum = str(c.value());
    } else if (k == "config") {
      contract_enforced = read_config(v, node, graph, key_ids, where);
    } else if (k == "columns") {
      columns_json = raw_of(v);
    } else if (k == "constraints") {
      std::string minified = minify_json(raw_of(v));
      if (!is_empty_json(minified)) node_constraints = fast_hash(minified);
    } else if (k == "database") {
      node.database = str(v);
    } else if (k == "schema") {
      node.schema = str(v);
    } else if (k == "alias" || k == "identifier") {
      node.alias = str(v);
    } else if (k == "language") {
      node.language = str(v);
    } else if (k == "raw_code") {
      node.raw_code = str(v);
    } else if (k == "test_metadata") {  // a generic test's name, namespace and arguments
      std::string minified = minify_json(raw_of(v));
      if (!is_empty_json(minified))
        node.config.emplace_back(config_key_id(graph, "test_metadata", key_ids),
                                 fast_hash(minified));
    } else if (k == "depends_on") {
      if (!require_object(v, true)) continue;
      for (auto d : v.get_object()) {
        std::string_view dk = raw_key(d);
        where.sub = dk;
        if (dk != "nodes" && dk != "macros") continue;
        od::value arr = d.value();
        if (arr.type() != od::json_type::array) continue;
        auto& into = dk == "nodes" ? node.depends_on : node.macro_deps;
        for (auto item : arr.get_array()) into.emplace_back(std::string_view(item.get_string()));
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
    } else if (k == "meta" && node.kind == NodeKind::Source) {
      table_marker = orc_change_marker(v, where);
    } else if (k == "source_meta" && node.kind == NodeKind::Source) {
      source_marker = orc_change_marker(v, where);
    }
  }
  if (!node.change_marker) node.change_marker = table_marker ? table_marker : source_marker;
  if (contract_enforced) {
    if (!columns_json.empty())
      node.config.emplace_back(config_key_id(graph, "columns (contract)", key_ids),
                               hash_contract_columns(columns_json));
    if (node_constraints)
      node.config.emplace_back(config_key_id(graph, "constraints (contract)", key_ids),
                               *node_constraints);
  }
  where.field = where.sub = {};
  std::sort(node.config.begin(), node.config.end());
  return node;
}

void read_section(od::value section, Graph& graph, NodeKind default_kind,
                  std::unordered_map<std::string, uint32_t>& key_ids, Where& where) {
  if (!require_object(section, true)) return;
  for (auto entry : section.get_object()) {
    std::string_view uid = entry.unescaped_key();
    where.entry = uid;
    od::value v = entry.value();
    require_object(v, false);
    Node node = read_node(uid, v.get_object(), graph, key_ids, default_kind, where);
    if (node.resource_type.empty() && default_kind != NodeKind::Other) {
      node.kind = default_kind;
      node.resource_type = default_kind == NodeKind::Source ? "source" : "unit_test";
    }
    graph.add(std::move(node));
  }
  where.entry = {};
}

void read_macros(od::value section, Graph& graph, Where& where) {
  if (!require_object(section, true)) return;
  for (auto entry : section.get_object()) {
    std::string_view uid = entry.unescaped_key();
    where.entry = uid;
    where.field = {};
    od::value v = entry.value();
    require_object(v, false);
    Macro m;
    m.unique_id = std::string(uid);
    for (auto f : v.get_object()) {
      std::string_view k = raw_key(f);
      where.field = k;
      if (k == "name") {
        m.name = str(f.value());
      } else if (k == "package_name") {
        m.package_name = str(f.value());
      } else if (k == "macro_sql") {
        m.sql = str(f.value());
      } else if (k == "original_file_path") {
        m.original_file_path = str(f.value());
      } else if (k == "depends_on") {
        od::value d = f.value();
        if (d.type() != od::json_type::object) continue;
        for (auto g : d.get_object()) {
          if (raw_key(g) != "macros") continue;
          od::value arr = g.value();
          if (arr.type() != od::json_type::array) continue;
          for (auto item : arr.get_array()) m.depends_on.emplace_back(std::string_view(item.get_string()));
        }
      }
    }
    graph.macro_index.emplace(m.unique_id, static_cast<uint32_t>(graph.macros.size()));
    graph.macros.push_back(std::move(m));
  }
  where.entry = where.field = {};
}

/// The unique_ids of the manifest's `exposures` (their contents are not needed; a section of
/// another shape holds none).
void read_exposures(od::value section, Graph& graph) {
  if (section.type() != od::json_type::object) return;
  for (auto entry : section.get_object()) {
    std::string_view uid = entry.unescaped_key();
    graph.exposures.emplace_back(uid);
  }
}

bool has_default_selector(od::value selectors) {
  if (selectors.type() != od::json_type::object) return false;
  bool found = false;
  for (auto sel : selectors.get_object()) {
    od::value v = sel.value();
    if (v.type() != od::json_type::object) continue;
    for (auto f : v.get_object()) {
      if (raw_key(f) != "default") continue;
      od::value d = f.value();
      if (d.type() == od::json_type::boolean && bool(d.get_bool())) found = true;
    }
  }
  return found;
}

/// simdjson's error in words a user can act on.
std::string describe_error(simdjson::error_code error) {
  switch (error) {
    case simdjson::INCORRECT_TYPE: return "not of the expected type (wrong shape: e.g. a number "
                                          "where a string belongs, or an array for an object)";
    case simdjson::DEPTH_ERROR: return "nested too deeply (more than 1024 levels)";
    case simdjson::TAPE_ERROR:
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
    case simdjson::UNCLOSED_STRING: return fmt::format("truncated or not JSON ({})",
                                                       simdjson::error_message(error));
    default: return simdjson::error_message(error);
  }
}

Graph parse_padded(const char* data, size_t size, size_t capacity, const std::string& origin) {
  Graph graph;
  graph.nodes.reserve(size / 4096 + 16);  // real manifests hold 5-15 KB per node
  graph.index.reserve(size / 4096 + 16);
  Where where;  // views into `parser`'s buffers: the parser must outlive the catch below
  od::parser parser;
  try {
    od::document doc = parser.iterate(data, size, capacity);
    bool saw_nodes = false;
    std::unordered_map<std::string, uint32_t> key_ids;
    for (auto field : doc.get_object()) {
      std::string_view k = raw_key(field);
      where = Where{k, {}, {}, {}};
      if (k == "metadata") {
        od::value meta = field.value();
        if (!require_object(meta, true)) continue;
        for (auto m : meta.get_object()) {
          std::string_view mk = raw_key(m);
          where.field = mk;
          if (mk == "project_name") graph.root_project = str(m.value());
          else if (mk == "adapter_type") graph.adapter_type = str(m.value());
          else if (mk == "dbt_version") graph.dbt_version = str(m.value());
        }
      } else if (k == "nodes") {
        saw_nodes = true;
        read_section(field.value(), graph, NodeKind::Other, key_ids, where);
      } else if (k == "sources") {
        read_section(field.value(), graph, NodeKind::Source, key_ids, where);
      } else if (k == "unit_tests") {
        read_section(field.value(), graph, NodeKind::UnitTest, key_ids, where);
      } else if (k == "macros") {
        read_macros(field.value(), graph, where);
      } else if (k == "selectors") {
        graph.has_default_selector = has_default_selector(field.value());
      } else if (k == "functions") {
        read_section(field.value(), graph, NodeKind::Other, key_ids, where);
      } else if (k == "exposures") {
        read_exposures(field.value(), graph);
      }
      where = Where{};
    }
    if (!saw_nodes)
      throw Error(fmt::format("{} is not a dbt manifest (no \"nodes\" object)", origin));
  } catch (const simdjson::simdjson_error& e) {
    throw Error(fmt::format("cannot parse dbt manifest {}: at {}: {}", origin, where.path(),
                            describe_error(e.error())));
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
