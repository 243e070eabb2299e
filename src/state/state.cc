#include "state/state.h"

#include <algorithm>
#include <bit>
#include <fmt/format.h>
#include <simdjson.h>
#include <vector>

#include "core/error.h"
#include "core/fast_hash.h"
#include "core/json_writer.h"
#include "core/mapped_file.h"

namespace orc {
namespace {

[[noreturn]] void shape_error(const std::string& origin, const std::string& what) {
  throw Error(fmt::format("state {} is not a valid orc/dbt-orchestra state: {} "
                          "(expected {{\"state\": {{\"<unique_id>\": {{\"checksum\": ..., "
                          "\"last_updated\": ..., \"sources\": {{...}}}}}}}})",
                          origin, what));
}

/// The JSON type of `v` in words, for error messages.
const char* type_name(simdjson::dom::element v) {
  switch (v.type()) {
    case simdjson::dom::element_type::ARRAY: return "an array";
    case simdjson::dom::element_type::OBJECT: return "an object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE: return "a number";
    case simdjson::dom::element_type::STRING: return "a string";
    case simdjson::dom::element_type::BOOL: return "a boolean";
    case simdjson::dom::element_type::NULL_VALUE: return "null";
  }
  return "a value";
}

/// The path of an entry's field inside the document: `state."<asset>".<field>`.
std::string entry_path(std::string_view key, std::string_view field) {
  return fmt::format("state.\"{}\"{}{}", key, field.empty() ? "" : ".", field);
}

/// A string field: its text, "" for null; anything else (a number where a string belongs) is
/// an error naming the path. `field()` gives the field's path inside the entry; it is called
/// only for the error (millions of fields are read per state: no formatting on the way).
template <class FieldPath>
std::string text_at(simdjson::dom::element v, const std::string& origin, std::string_view key,
                    const FieldPath& field) {
  if (v.is_string()) return std::string(std::string_view(v.get_string().value_unsafe()));
  if (v.is_null()) return std::string();
  shape_error(origin, fmt::format("at {}: expected a string, found {}", entry_path(key, field()),
                                  type_name(v)));
}

/// text_at for a field whose path is `field`.
std::string text_of(simdjson::dom::element v, const std::string& origin, std::string_view key,
                    std::string_view field) {
  return text_at(v, origin, key, [field] { return field; });
}

void read_string_map(simdjson::dom::element v, FlatStringMap& out,
                     const std::string& origin, std::string_view key, std::string_view field) {
  if (v.is_null()) return;
  simdjson::dom::object obj;
  if (v.get_object().get(obj))
    shape_error(origin, fmt::format("at {}: expected an object, found {}",
                                    entry_path(key, field), type_name(v)));
  // orc writes these maps sorted, so each key is appended (any order stays correct).
  out.reserve(obj.size());
  for (auto [k, val] : obj)
    out.insert_or_assign(std::string(k), text_at(val, origin, key, [&, k = k] {
      return fmt::format("{}.\"{}\"", field, k);
    }));
}

void append_string_map(std::string& out, const FlatStringMap& m) {
  out.push_back('{');
  bool first = true;
  for (const auto& [k, v] : m) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, k);
    out.push_back(':');
    append_json_string(out, v);
  }
  out.push_back('}');
}

/// Reads the "fingerprint" object of an entry.
Fingerprint read_fingerprint(simdjson::dom::element v, const std::string& origin,
                             std::string_view key) {
  simdjson::dom::object obj;
  if (v.get_object().get(obj))
    shape_error(origin, fmt::format("at {}: expected an object, found {}",
                                    entry_path(key, "fingerprint"), type_name(v)));
  Fingerprint fp;
  for (auto field : obj) {
    std::string_view f = field.key;
    simdjson::dom::element fv = field.value;
    auto text = [&] {
      return text_at(fv, origin, key, [&] { return fmt::format("fingerprint.{}", f); });
    };
    if (f == "code") fp.code = text();
    else if (f == "relation") fp.relation = text();
    else if (f == "adapter") fp.adapter = text();
    else if (f == "kind") fp.kind = text();
    else if (f == "inputs") fp.inputs = text();
    else if (f == "config") read_string_map(fv, fp.config, origin, key, "fingerprint.config");
    else if (f == "macros") read_string_map(fv, fp.macros, origin, key, "fingerprint.macros");
    else if (f == "vars") read_string_map(fv, fp.vars, origin, key, "fingerprint.vars");
    else if (f == "env_vars") read_string_map(fv, fp.env_vars, origin, key, "fingerprint.env_vars");
  }
  return fp;
}

/// Reads the top-level "orc_savings" object; unknown or mistyped members are an error.
SavingsTotals read_savings(simdjson::dom::element v, const std::string& origin) {
  simdjson::dom::object obj;
  if (v.get_object().get(obj)) shape_error(origin, "\"orc_savings\" is not an object");
  SavingsTotals t;
  for (auto [f, fv] : obj) {
    double d = 0;
    if (fv.get_double().get(d))
      shape_error(origin, fmt::format("\"orc_savings.{}\" is not a number", std::string_view(f)));
    if (f == "runs") t.runs = static_cast<int64_t>(d);
    else if (f == "reused_nodes") t.reused_nodes = static_cast<int64_t>(d);
    else if (f == "decided_nodes") t.decided_nodes = static_cast<int64_t>(d);
    else if (f == "saved_seconds") t.saved_seconds = d;
  }
  return t;
}

void append_fingerprint(std::string& out, const Fingerprint& fp) {
  const std::pair<const char*, const std::string*> strings[] = {
      {"code", &fp.code}, {"relation", &fp.relation}, {"adapter", &fp.adapter},
      {"kind", &fp.kind}, {"inputs", &fp.inputs}};
  const std::pair<const char*, const FlatStringMap*> maps[] = {
      {"config", &fp.config}, {"macros", &fp.macros}, {"vars", &fp.vars},
      {"env_vars", &fp.env_vars}};
  char sep = '{';
  for (const auto& [key, value] : strings) {
    out += sep;
    sep = ',';
    append_json_string(out, key);
    out += ": ";
    append_json_string(out, *value);
  }
  for (const auto& [key, value] : maps) {
    out += ", ";
    append_json_string(out, key);
    out += ": ";
    append_string_map(out, *value);
  }
  out += "}";
}

}  // namespace

std::string relation_key(const std::string& key, const std::string& relation) {
  return key + "@" + relation;
}

const StateEntry* find_entry(const State& state, const std::string& key,
                             const std::string& relation) {
  auto primary = state.entries.find(key);
  const StateEntry* p = primary == state.entries.end() ? nullptr : &primary->second;
  if (p && (!p->fingerprint || p->fingerprint->relation == relation)) return p;
  if (!relation.empty()) {
    auto other = state.entries.find(relation_key(key, relation));
    if (other != state.entries.end()) return &other->second;
  }
  return p;
}

namespace {

/// entry_digest's accumulator: order-dependent, each string hashed whole (its length counts).
struct DigestMix {
  uint64_t h = 0x6A09E667F3BCC908ULL;
  void add(uint64_t v) { h = (h ^ v) * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL; }
  void add(std::string_view s) { add(fast_hash(s)); }
  void add(const FlatStringMap& m) {
    add(static_cast<uint64_t>(m.size()));
    for (const auto& [k, v] : m) add(k), add(v);
  }
};

}  // namespace

uint64_t entry_digest(const StateEntry& e) {
  DigestMix d;
  d.add(e.checksum);
  d.add(e.last_updated);
  d.add(e.sources);
  d.add(static_cast<uint64_t>(e.has_parents));
  d.add(e.parents);
  d.add(e.source_tokens);
  d.add(e.source_markers);
  d.add(static_cast<uint64_t>(e.fingerprint.has_value()));
  if (const auto& fp = e.fingerprint) {
    for (const std::string* part : {&fp->code, &fp->relation, &fp->adapter, &fp->kind,
                                    &fp->inputs})
      d.add(*part);
    for (const FlatStringMap* m : {&fp->config, &fp->macros, &fp->vars, &fp->env_vars}) d.add(*m);
  }
  d.add(static_cast<uint64_t>(e.build_seconds.has_value()));
  if (e.build_seconds) d.add(std::bit_cast<uint64_t>(*e.build_seconds));
  d.add(e.target);
  d.add(e.cloned_from);
  d.add(e.cloned_version);
  d.add(e.extra_fields);
  return d.h;
}

namespace {

/// The text of every entry of the document's "state" object (of each, if the key repeats), in
/// document order; empty when the document cannot be walked (then nothing is copied).
std::vector<std::string_view> entry_texts(const char* data, size_t size, size_t capacity) {
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object top;
  if (parser.iterate(data, size, capacity).get(doc) || doc.get_object().get(top)) return {};
  std::vector<std::string_view> out;
  for (auto field : top) {
    std::string_view key;
    simdjson::ondemand::value value;
    if (field.unescaped_key().get(key) || field.value().get(value)) return {};
    if (key != "state") continue;  // the value is skipped on the way to the next field
    simdjson::ondemand::object entries;
    if (value.get_object().get(entries)) return {};
    for (auto entry : entries) {
      simdjson::ondemand::object eo;  // every entry is an object (the parse checked)
      std::string_view text;
      if (entry.value().get_object().get(eo) || eo.raw_json().get(text)) return {};
      // the text runs to the next token: the whitespace after the last entry's '}' is not its
      while (!text.empty() && (text.back() == ' ' || text.back() == '\n' ||
                               text.back() == '\r' || text.back() == '\t'))
        text.remove_suffix(1);
      out.push_back(text);
    }
  }
  return out;
}

/// parse_state on `size` bytes at `data`, followed by readable bytes up to `capacity` (at
/// least SIMDJSON_PADDING, so simdjson reads the text where it is instead of copying it).
/// `owner` keeps those bytes alive; each entry's `read_as` points into them.
State parse_padded_state(const char* data, size_t size, size_t capacity,
                         const std::shared_ptr<const void>& owner, const std::string& origin) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(data, size, false).get(root)) {
    if (err == simdjson::DEPTH_ERROR)
      shape_error(origin, "not valid JSON: nested too deeply (more than 1024 levels)");
    shape_error(origin, fmt::format("not valid JSON, or truncated ({})",
                                    simdjson::error_message(err)));
  }
  simdjson::dom::object top;
  if (root.get_object().get(top))
    shape_error(origin, fmt::format("at the top level: expected an object, found {}",
                                    type_name(root)));
  State state;
  std::vector<StateEntry*> in_order;  // the entries as read, for their texts
  bool saw_state = false;
  for (auto [key, value] : top) {
    if (key == "orc_savings") {
      state.savings = read_savings(value, origin);
      continue;
    }
    if (key != "state") {
      if (!state.extra_top_level.empty()) state.extra_top_level.push_back(',');
      append_json_string(state.extra_top_level, key);
      state.extra_top_level.push_back(':');
      state.extra_top_level += simdjson::minify(value);
      continue;
    }
    saw_state = true;
    simdjson::dom::object entries;
    if (value.get_object().get(entries))
      shape_error(origin, fmt::format("at state: expected an object, found {}", type_name(value)));
    state.entries.reserve(entries.size());
    in_order.reserve(in_order.size() + entries.size());
    for (auto [asset, ev] : entries) {
      simdjson::dom::object eo;
      if (ev.get_object().get(eo))
        shape_error(origin, fmt::format("at {}: expected an object, found {}",
                                        entry_path(asset, ""), type_name(ev)));
      StateEntry entry;
      for (auto [f, fv] : eo) {
        if (f == "checksum") {
          entry.checksum = text_of(fv, origin, asset, f);
        } else if (f == "last_updated") {
          entry.last_updated = text_of(fv, origin, asset, f);
        } else if (f == "sources") {
          read_string_map(fv, entry.sources, origin, asset, f);
        } else if (f == "orc_source_tokens") {
          read_string_map(fv, entry.source_tokens, origin, asset, f);
        } else if (f == "orc_source_markers") {
          read_string_map(fv, entry.source_markers, origin, asset, f);
        } else if (f == "parents") {
          read_string_map(fv, entry.parents, origin, asset, f);
          entry.has_parents = !fv.is_null();
        } else if (f == "orc_build_seconds") {
          double seconds = 0;
          if (!fv.is_null()) {
            if (fv.get_double().get(seconds))
              shape_error(origin, fmt::format("entry \"{}\" field \"orc_build_seconds\" is not "
                                              "a number", std::string_view(asset)));
            entry.build_seconds = seconds;
          }
        } else if (f == "orc_target") {
          entry.target = text_of(fv, origin, asset, f);
        } else if (f == "orc_cloned_from") {
          entry.cloned_from = text_of(fv, origin, asset, f);
        } else if (f == "orc_cloned_version") {
          entry.cloned_version = text_of(fv, origin, asset, f);
        } else if (f == "fingerprint") {
          if (!fv.is_null()) entry.fingerprint = read_fingerprint(fv, origin, asset);
        } else {
          if (!entry.extra_fields.empty()) entry.extra_fields.push_back(',');
          append_json_string(entry.extra_fields, f);
          entry.extra_fields.push_back(':');
          entry.extra_fields += simdjson::minify(fv);
        }
      }
      auto it = state.entries.insert_or_assign(std::string(asset), std::move(entry)).first;
      in_order.push_back(&it->second);
    }
  }
  if (!saw_state) shape_error(origin, "it has no \"state\" key");
  parser = simdjson::dom::parser();  // its memory is not needed for the texts' walk
  // Each entry's text, in the order the entries were read (a key read twice keeps the last).
  const std::vector<std::string_view> texts = entry_texts(data, size, capacity);
  if (texts.size() == in_order.size()) {
    for (size_t i = 0; i < texts.size(); ++i) in_order[i]->read_as.text = texts[i];
    for (StateEntry* e : in_order)
      if (e->read_as.owner == nullptr) e->read_as = {owner, e->read_as.text, entry_digest(*e)};
  }
  return state;
}

}  // namespace

State parse_state(std::string_view text, const std::string& origin) {
  auto padded = std::make_shared<const simdjson::padded_string>(text);
  return parse_padded_state(padded->data(), padded->size(),
                            padded->size() + simdjson::SIMDJSON_PADDING, padded, origin);
}

State read_state_file(const std::filesystem::path& path) {
  auto file = std::make_shared<const MappedFile>(path, simdjson::SIMDJSON_PADDING);
  return parse_padded_state(file->data(), file->size(), file->capacity(), file, path.string());
}

std::string serialize_state(const State& state) {
  std::vector<const std::pair<const std::string, StateEntry>*> sorted;
  sorted.reserve(state.entries.size());
  for (const auto& kv : state.entries) sorted.push_back(&kv);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  std::string out;
  out.reserve(256 + sorted.size() * 2048);  // generous, as in decisions_json
  out += "{\"state\": {";
  bool first = true;
  for (const auto* kv : sorted) {
    const StateEntry& e = kv->second;
    out += first ? "\n  " : ",\n  ";
    first = false;
    append_json_string(out, kv->first);
    if (!e.read_as.text.empty() && e.read_as.digest == entry_digest(e)) {
      out += ": ";
      out += e.read_as.text;  // unchanged since it was read: its text as read
      continue;
    }
    out += ": {\"checksum\": ";
    append_json_string(out, e.checksum);
    out += ", \"last_updated\": ";
    append_json_string(out, e.last_updated);
    out += ", \"sources\": ";
    append_string_map(out, e.sources);
    if (e.has_parents) {
      out += ", \"parents\": ";
      append_string_map(out, e.parents);
    }
    if (!e.source_tokens.empty()) {
      out += ", \"orc_source_tokens\": ";
      append_string_map(out, e.source_tokens);
    }
    if (!e.source_markers.empty()) {
      out += ", \"orc_source_markers\": ";
      append_string_map(out, e.source_markers);
    }
    if (e.fingerprint) {
      out += ", \"fingerprint\": ";
      append_fingerprint(out, *e.fingerprint);
    }
    if (e.build_seconds) out += fmt::format(", \"orc_build_seconds\": {:.3f}", *e.build_seconds);
    auto optional_text = [&out](const char* field, const std::string& value) {
      if (value.empty()) return;
      out += ", \"";
      out += field;
      out += "\": ";
      append_json_string(out, value);
    };
    optional_text("orc_target", e.target);
    optional_text("orc_cloned_from", e.cloned_from);
    optional_text("orc_cloned_version", e.cloned_version);
    if (!e.extra_fields.empty()) {
      out += ", ";
      out += e.extra_fields;
    }
    out += "}";
  }
  out += first ? "}" : "\n}";
  if (state.savings.runs > 0) {
    const SavingsTotals& t = state.savings;
    out += fmt::format(", \"orc_savings\": {{\"runs\": {}, \"reused_nodes\": {}, "
                       "\"decided_nodes\": {}, \"saved_seconds\": {:.3f}}}",
                       t.runs, t.reused_nodes, t.decided_nodes, t.saved_seconds);
  }
  if (!state.extra_top_level.empty()) {
    out += ", ";
    out += state.extra_top_level;
  }
  out += "}\n";
  return out;
}

size_t merge_state(State& base, const State& updates) {
  size_t taken = 0;
  for (const auto& [key, entry] : updates.entries) {
    auto it = base.entries.find(key);
    if (it != base.entries.end()) {
      auto mine = parse_timestamp(it->second.last_updated);
      auto theirs = parse_timestamp(entry.last_updated);
      if (mine && theirs && *mine > *theirs) continue;
      it->second = entry;
    } else {
      base.entries.emplace(key, entry);
    }
    ++taken;
  }
  return taken;
}

size_t remove_entries(State& state, const std::vector<std::string>& keys) {
  size_t removed = 0;
  for (const auto& k : keys) removed += state.entries.erase(k);
  return removed;
}

}  // namespace orc
