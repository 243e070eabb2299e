#include "plan/fingerprint.h"

#include <algorithm>
#include <array>
#include <fmt/format.h>

#include "core/fast_hash.h"
#include "core/parallel.h"

namespace orc {
namespace {

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

/// Macros whose effect the fingerprint already sees through the relation identity.
bool names_relations(std::string_view name) {
  for (std::string_view n : {"generate_schema_name", "generate_alias_name",
                             "generate_database_name"})
    if (name == n || name == fmt::format("default__{}", n)) return true;
  return false;
}

/// First differing key of two maps: "+k" added, "-k" removed, "k" changed; "" when equal.
std::string first_difference(const FlatStringMap& before, const FlatStringMap& now,
                             bool unknown_differs = false) {
  auto a = before.begin(), b = now.begin();
  while (a != before.end() || b != now.end()) {
    if (b == now.end() || (a != before.end() && a->first < b->first)) return a->first;
    if (a == before.end() || b->first < a->first) return b->first;
    if (a->second != b->second || (unknown_differs && b->second == kUnknownValue))
      return a->first;
    ++a, ++b;
  }
  return {};
}

}  // namespace

bool config_key_affects_result(std::string_view key) {
  static constexpr std::array<std::string_view, 10> kIgnored = {
      "tags", "meta", "docs", "group", "access", "freshness", "description", "enabled",
      "static_analysis", "volatile"};
  return std::find(kIgnored.begin(), kIgnored.end(), key) == kIgnored.end();
}

bool is_builtin_macro_package(std::string_view package) {
  static constexpr std::array<std::string_view, 24> kAdapters = {
      "dbt_postgres", "dbt_duckdb", "dbt_snowflake", "dbt_bigquery", "dbt_redshift",
      "dbt_databricks", "dbt_spark", "dbt_trino", "dbt_fabric", "dbt_sqlserver",
      "dbt_synapse", "dbt_athena", "dbt_clickhouse", "dbt_oracle", "dbt_teradata",
      "dbt_exasol", "dbt_dremio", "dbt_glue", "dbt_impala", "dbt_hive", "dbt_mysql",
      "dbt_sqlite", "dbt_vertica", "dbt_materialize"};
  return package == "dbt" ||
         std::find(kAdapters.begin(), kAdapters.end(), package) != kAdapters.end();
}

std::string expected_relation_kind(const Node& n) {
  if (n.kind == NodeKind::Seed || n.kind == NodeKind::Snapshot) return "table";
  if (n.kind != NodeKind::Model) return {};
  const std::string& m = n.materialized;
  if (m == "table" || m == "incremental" || m == "microbatch") return "table";
  if (m == "view") return "view";
  if (m == "materialized_view" || m == "dynamic_table") return m;
  return {};
}

std::string relation_identity(const Node& n) {
  if (!n.relation_name.empty()) return n.relation_name;
  if (n.database.empty() && n.schema.empty()) return {};
  return n.database + "." + n.schema;
}

Fingerprinter::Fingerprinter(const Graph& graph, Lineage& lineage, FingerprintContext context)
    : g_(graph), lineage_(lineage), ctx_(std::move(context)),
      closures_(graph.macros.size()), closure_state_(graph.macros.size(), 0),
      hashes_(graph.macros.size()), refs_(graph.macros.size()),
      volatile_(graph.macros.size(), 0), reads_(graph.nodes.size()),
      scans_(graph.nodes.size()), volatility_(graph, lineage) {
  std::unordered_map<std::string_view, bool> builtin_names;
  for (uint32_t i = 0; i < g_.macros.size(); ++i) {
    const Macro& m = g_.macros[i];
    if (is_builtin_macro_package(m.package_name)) {
      builtin_names.emplace(m.name, true);
      continue;
    }
    by_name_[m.name].push_back(i);
    const std::string_view name = m.name;
    if (const size_t sep = name.find("__"); sep != std::string_view::npos && sep > 0 &&
                                            sep + 2 < name.size()) {
      dispatch_by_name_[name.substr(sep + 2)].push_back(i);
      dispatch_all_.push_back(i);
    }
  }
  // A project or package macro named like a built-in one replaces it wherever dbt dispatches
  // to it (materializations, adapter macros): it counts for every node.
  std::vector<uint32_t> global;
  for (const auto& [name, ids] : by_name_)
    if (builtin_names.count(name) && !names_relations(name))
      for (uint32_t id : ids)
        for (uint32_t c : closure(id)) global.push_back(c);
  std::sort(global.begin(), global.end());
  global.erase(std::unique(global.begin(), global.end()), global.end());
  global_ = std::move(global);
  // What a computed var name may read, per package whose vars are known (few: computed once).
  visible_vars_[g_.root_project] = visible_vars_hash(ctx_.scopes, g_.root_project, ctx_.env);
  for (const auto& [package, block] : ctx_.scopes.packages)
    visible_vars_[package] = visible_vars_hash(ctx_.scopes, package, ctx_.env);
}

const std::vector<uint32_t>& Fingerprinter::closure(uint32_t macro) {
  if (closure_state_[macro] == 2) return closures_[macro];
  // Depth-first over the macro graph from `macro` (recursive macros form cycles, so partial
  // results are never memoised); fingerprinted macros only.
  // Built-in macros are not walked, but what they dispatch to is (a project override of
  // `<adapter>__name` for a dispatching dbt macro).
  std::vector<uint32_t> out, next;
  std::vector<uint8_t> seen(g_.macros.size(), 0);
  std::vector<uint32_t> stack{macro};
  seen[macro] = 1;
  auto visit = [&](const std::vector<uint32_t>& ids) {
    for (uint32_t id : ids)
      if (!seen[id]) seen[id] = 1, stack.push_back(id);
    next.clear();
  };
  while (!stack.empty()) {
    uint32_t m = stack.back();
    stack.pop_back();
    out.push_back(m);
    dispatch_targets(m, next);
    visit(next);
    for (const std::string& dep : g_.macros[m].depends_on) {
      auto it = g_.macro_index.find(dep);
      if (it == g_.macro_index.end() || seen[it->second]) continue;
      seen[it->second] = 1;
      if (is_builtin_macro_package(g_.macros[it->second].package_name)) {
        dispatch_targets(it->second, next);  // once per walk: marked seen, never pushed
        visit(next);
        continue;
      }
      stack.push_back(it->second);
    }
  }
  std::sort(out.begin(), out.end());
  closures_[macro] = std::move(out);
  closure_state_[macro] = 2;
  return closures_[macro];
}

void Fingerprinter::dispatch_targets(uint32_t macro, std::vector<uint32_t>& out) {
  const CodeReferences& r = macro_refs(macro);
  if (r.dynamic_dispatch) {
    out.insert(out.end(), dispatch_all_.begin(), dispatch_all_.end());
    return;
  }
  for (const std::string& name : r.dispatched)
    if (auto it = dispatch_by_name_.find(name); it != dispatch_by_name_.end())
      out.insert(out.end(), it->second.begin(), it->second.end());
}

const std::string& Fingerprinter::macro_hash(uint32_t macro) {
  std::string& h = hashes_[macro];
  if (h.empty()) h = hash_hex(fast_hash(normalize_code(g_.macros[macro].sql)));
  return h;
}

bool Fingerprinter::macro_volatile(uint32_t macro) {
  uint8_t& v = volatile_[macro];
  if (v == 0) v = reads_clock_or_randomness(g_.macros[macro].sql) ? 2 : 1;
  return v == 2;
}

std::optional<Volatility> Fingerprinter::volatility(NodeId id, VolatilityMode mode) {
  return volatility_.judge(id, mode, [this](NodeId n) { return reads(n).volatile_code; });
}

const CodeReferences& Fingerprinter::macro_refs(uint32_t macro) {
  auto& r = refs_[macro];
  if (!r) {
    r.emplace();
    collect_references(g_.macros[macro].sql, *r);
  }
  return *r;
}

namespace {

/// The CodeScan of one node (pure: reads only the graph).
CodeScan scan_node(const Graph& g, const Node& node) {
  CodeScan out;
  collect_references(node.raw_code, out.refs);
  if (!node.hooks_text.empty()) collect_references(node.hooks_text, out.refs);
  if (!node.raw_code.empty() && node.kind != NodeKind::Seed)
    out.volatile_code = reads_clock_or_randomness(node.raw_code);  // comments included
  for (const std::string& dep : node.macro_deps) {
    auto it = g.macro_index.find(dep);
    if (it == g.macro_index.end()) continue;
    if (is_builtin_macro_package(g.macros[it->second].package_name))
      out.builtin_macros.push_back(it->second);
    else out.macros.push_back(it->second);
  }
  return out;
}

}  // namespace

const CodeScan& Fingerprinter::scan(NodeId id) {
  auto& slot = scans_[id];
  if (!slot) slot = scan_node(g_, g_.nodes[id]);
  return *slot;
}

void Fingerprinter::prescan(const std::vector<NodeId>& ids) {
  // Duplicates in `ids` would race on one slot: mark each node once, then scan the marked.
  std::vector<uint8_t> wanted(g_.nodes.size(), 0);
  std::vector<NodeId> todo;
  todo.reserve(ids.size());
  for (NodeId id : ids)
    if (id < g_.nodes.size() && !wanted[id] && !scans_[id]) wanted[id] = 1, todo.push_back(id);
  parallel_for(todo.size(), kParallelNodes, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) scans_[todo[i]] = scan_node(g_, g_.nodes[todo[i]]);
  });
}

void Fingerprinter::prepare(const std::vector<NodeId>& ids) {
  // Lineage first (its expansions are shared between nodes), then every scan the reads need
  // (the nodes' and their ephemeral ancestors') on every core, then the reads and the hashes
  // of the macros they call.
  std::vector<NodeId> code;
  code.reserve(ids.size());
  for (NodeId id : ids) {
    if (id >= g_.nodes.size()) continue;
    code.push_back(id);
    const EffectiveInputs& in = lineage_.of(id);
    code.insert(code.end(), in.ephemerals.begin(), in.ephemerals.end());
  }
  prescan(code);
  for (NodeId id : ids) {
    if (id >= g_.nodes.size()) continue;
    for (uint32_t m : reads(id).macros) macro_hash(m);
  }
}

const NodeReads& Fingerprinter::reads(NodeId id) {
  auto& slot = reads_[id];
  if (slot) return *slot;
  NodeReads out;
  CodeReferences refs;
  std::vector<uint32_t> macros = global_;
  std::vector<NodeId> own{id};
  const EffectiveInputs& in = lineage_.of(id);
  own.insert(own.end(), in.ephemerals.begin(), in.ephemerals.end());
  for (NodeId n : own) {
    const CodeScan& s = scan(n);
    refs.vars.insert(refs.vars.end(), s.refs.vars.begin(), s.refs.vars.end());
    refs.env_vars.insert(refs.env_vars.end(), s.refs.env_vars.begin(), s.refs.env_vars.end());
    refs.dynamic_var |= s.refs.dynamic_var;
    refs.dynamic_env_var |= s.refs.dynamic_env_var;
    out.volatile_code = out.volatile_code || s.volatile_code;
    std::vector<uint32_t> called = s.macros;
    for (uint32_t b : s.builtin_macros) dispatch_targets(b, called);
    for (uint32_t m : called) {
      const auto& c = closure(m);
      macros.insert(macros.end(), c.begin(), c.end());
      // Only macros the code calls make it volatile: overrides of built-ins and
      // materializations serve every node (a snapshot_get_time override reads the clock).
      for (uint32_t cm : c) out.volatile_code = out.volatile_code || macro_volatile(cm);
    }
  }
  // The materialization that builds the node, when the project or a package defines it.
  const Node& self = g_.nodes[id];
  if (!self.materialized.empty()) {
    for (const std::string& name :
         {fmt::format("materialization_{}_{}", self.materialized, g_.adapter_type),
          fmt::format("materialization_{}_default", self.materialized)}) {
      auto it = by_name_.find(name);
      if (it == by_name_.end()) continue;
      for (uint32_t m : it->second) {
        const auto& c = closure(m);
        macros.insert(macros.end(), c.begin(), c.end());
      }
    }
  }
  std::sort(macros.begin(), macros.end());
  macros.erase(std::unique(macros.begin(), macros.end()), macros.end());
  for (uint32_t m : macros) {
    const CodeReferences& r = macro_refs(m);
    refs.vars.insert(refs.vars.end(), r.vars.begin(), r.vars.end());
    refs.env_vars.insert(refs.env_vars.end(), r.env_vars.begin(), r.env_vars.end());
    refs.dynamic_var |= r.dynamic_var;
    refs.dynamic_env_var |= r.dynamic_env_var;
  }
  sort_unique(refs.vars);
  sort_unique(refs.env_vars);
  out.vars = std::move(refs.vars);
  out.env_vars = std::move(refs.env_vars);
  out.dynamic_var = refs.dynamic_var;
  out.dynamic_env_var = refs.dynamic_env_var;
  out.macros = std::move(macros);
  slot = std::move(out);
  return *slot;
}

std::vector<std::string> Fingerprinter::vars_read(const std::vector<NodeId>& ids) {
  std::vector<std::string> out;
  for (NodeId id : ids) {
    const NodeReads& r = reads(id);
    out.insert(out.end(), r.vars.begin(), r.vars.end());
  }
  sort_unique(out);
  return out;
}

std::string Fingerprinter::code_hash(NodeId id) {
  const EffectiveInputs& in = lineage_.of(id);
  HashBuilder h;
  auto add_code = [&](const Node& n) {
    if (n.raw_code.empty()) h.add(n.checksum);  // seeds (file hash), unit tests
    else h.add(normalize_code(n.raw_code, n.language.empty() ? "sql" : n.language));
  };
  add_code(g_.nodes[id]);
  for (NodeId e : in.ephemerals) {
    h.add(g_.nodes[e].unique_id);
    add_code(g_.nodes[e]);
  }
  return h.hex();
}

namespace {

/// The single-valued components, then the maps, in the order fingerprint_digest hashes them.
enum class Part : uint8_t { Code, Relation, Adapter, Kind, Inputs };
enum class Map : uint8_t { Config, Macros, Vars, EnvVars };

/// Builds the Fingerprint itself: the maps' entries as they come, sorted once by finish().
struct BuildSink {
  Fingerprint& fp;
  std::vector<FlatStringMap::value_type> entries[4];
  void part(Part p, std::string_view v) {
    std::string* to[] = {&fp.code, &fp.relation, &fp.adapter, &fp.kind, &fp.inputs};
    *to[static_cast<int>(p)] = v;
  }
  void entry(Map m, std::string_view key, std::string_view value) {
    entries[static_cast<int>(m)].emplace_back(std::string(key), std::string(value));
  }
  /// Moves the collected entries into the fingerprint's maps.
  void finish() {
    FlatStringMap* to[] = {&fp.config, &fp.macros, &fp.vars, &fp.env_vars};
    for (int i = 0; i < 4; ++i) *to[i] = FlatStringMap::from_pairs(std::move(entries[i]));
  }
};

/// Hashes the components as they come: a hash per single-valued part, and per map the sum of
/// its entries' key/value hashes (so the order entries arrive in does not matter).
struct DigestSink {
  uint64_t parts[9] = {};
  bool unknown = false;
  void part(Part p, std::string_view v) { parts[static_cast<int>(p)] = fast_hash(v); }
  void entry(Map m, std::string_view key, std::string_view value) {
    const int i = static_cast<int>(m);
    parts[5 + i] += fast_hash(value, fast_hash(key, 0x9E3779B97F4A7C15ULL * (i + 1)));
    if ((m == Map::Vars || m == Map::EnvVars) && value == kUnknownValue) unknown = true;
  }
  uint64_t value() const {
    return fast_hash(std::string_view(reinterpret_cast<const char*>(parts), sizeof parts));
  }
};

/// Collects the keys of the var and env var maps and counts the macros.
struct WatchSink {
  FingerprintSummary& out;
  void entry(Map m, std::string_view key) {
    if (m == Map::Vars) out.watched_vars.emplace_back(key);
    else if (m == Map::EnvVars) out.watched_env_vars.emplace_back(key);
    else if (m == Map::Macros) ++out.watched_macros;
  }
};

/// The summary's sink: digest and watch lists in one pass.
struct SummarySink {
  DigestSink digest;
  WatchSink watch;
  void part(Part p, std::string_view v) { digest.part(p, v); }
  void entry(Map m, std::string_view key, std::string_view value) {
    digest.entry(m, key, value);
    watch.entry(m, key);
  }
};

}  // namespace

template <class Sink>
void Fingerprinter::emit(NodeId id, const StateEntry* recorded, Sink& sink) {
  const Node& n = g_.nodes[id];
  const EffectiveInputs& in = lineage_.of(id);
  if (recorded && recorded->fingerprint && !in.checksum.empty() &&
      recorded->checksum == in.checksum)
    sink.part(Part::Code, recorded->fingerprint->code);  // dbt's checksum of the code is unchanged
  else
    sink.part(Part::Code, code_hash(id));
  sink.part(Part::Relation, relation_identity(n));
  sink.part(Part::Adapter, g_.adapter_type);
  sink.part(Part::Kind, expected_relation_kind(n));

  sink.part(Part::Inputs,
            inputs_with(id, [this](NodeId p) { return relation_identity(g_.nodes[p]); }));

  char hex[16];
  for (const auto& [key, value] : n.config) {
    hash_hex(value, hex);
    sink.entry(Map::Config, g_.config_keys[key], std::string_view(hex, 16));
  }
  for (NodeId e : in.ephemerals)  // an ephemeral's own config shapes the SQL it inlines
    for (const auto& [key, value] : g_.nodes[e].config) {
      hash_hex(value, hex);
      sink.entry(Map::Config, g_.nodes[e].unique_id + ":" + g_.config_keys[key],
                 std::string_view(hex, 16));
    }

  const NodeReads& r = reads(id);
  for (uint32_t m : r.macros) sink.entry(Map::Macros, g_.macros[m].unique_id, macro_hash(m));
  // Vars as dbt resolves them for the node's own package (docs/design.md, "Vars"): the root
  // project's as dbt answered them, a package's from --vars and the project files with dbt's
  // precedence, every layer hashed alike (a value moving between layers is the same value).
  const bool in_package = n.package_name != g_.root_project;
  for (const std::string& v : r.vars) {
    auto it = ctx_.var_values.find(v);
    if (!in_package) {
      sink.entry(Map::Vars, v,
                 it == ctx_.var_values.end() ? std::string_view(kUnknownValue) : it->second);
      continue;
    }
    sink.entry(Map::Vars, v, resolve_package_var(ctx_.scopes, n.package_name, v, ctx_.env).hash);
  }
  if (r.dynamic_var) {
    auto it = visible_vars_.find(n.package_name);
    sink.entry(Map::Vars, "(var with a computed name)",
               it == visible_vars_.end() ? std::string_view(kUnknownValue) : it->second);
  }
  for (const std::string& e : r.env_vars) {
    std::optional<std::string> value = ctx_.env ? ctx_.env(e) : std::nullopt;
    if (value) sink.entry(Map::EnvVars, e, hash_hex(fast_hash("orc-env:" + *value)));
    else sink.entry(Map::EnvVars, e, "unset");
  }
  if (r.dynamic_env_var)
    sink.entry(Map::EnvVars, "(env var with a computed name)", kUnknownValue);
}

std::string Fingerprinter::inputs_with(NodeId id,
                                       const std::function<std::string(NodeId)>& identity_of) {
  const EffectiveInputs& in = lineage_.of(id);
  std::vector<std::string> inputs;
  for (NodeId s : in.sources) inputs.push_back(relation_identity(g_.nodes[s]));
  for (NodeId p : in.nodes) inputs.push_back(identity_of(p));
  sort_unique(inputs);
  HashBuilder ih;
  for (const auto& i : inputs) ih.add(i);
  return ih.hex();
}

Fingerprint Fingerprinter::of(NodeId id, const StateEntry* recorded) {
  Fingerprint fp;
  BuildSink sink{fp, {}};
  emit(id, recorded, sink);
  sink.finish();
  return fp;
}

FingerprintSummary Fingerprinter::summary(NodeId id, const StateEntry* recorded) {
  FingerprintSummary out;
  SummarySink sink{{}, WatchSink{out}};
  emit(id, recorded, sink);
  out.digest = sink.digest.value();
  out.has_unknown = sink.digest.unknown;
  std::sort(out.watched_vars.begin(), out.watched_vars.end());
  std::sort(out.watched_env_vars.begin(), out.watched_env_vars.end());
  return out;
}

uint64_t fingerprint_digest(const Fingerprint& fp) {
  DigestSink sink;
  sink.part(Part::Code, fp.code);
  sink.part(Part::Relation, fp.relation);
  sink.part(Part::Adapter, fp.adapter);
  sink.part(Part::Kind, fp.kind);
  sink.part(Part::Inputs, fp.inputs);
  const std::pair<Map, const FlatStringMap*> maps[] = {
      {Map::Config, &fp.config}, {Map::Macros, &fp.macros}, {Map::Vars, &fp.vars},
      {Map::EnvVars, &fp.env_vars}};
  for (const auto& [m, entries] : maps)
    for (const auto& [k, v] : *entries) sink.entry(m, k, v);
  return sink.value();
}

std::optional<Reason> compare_fingerprints(const Fingerprint& old, const Fingerprint& now,
                                           const std::string& node_id) {
  if (old.relation != now.relation)
    return Reason{ReasonCode::RelationChanged, now.relation,
                  fmt::format("{} -> {}", old.relation, now.relation)};
  if (old.adapter != now.adapter)
    return Reason{ReasonCode::AdapterChanged, now.adapter,
                  fmt::format("{} -> {}", old.adapter, now.adapter)};
  if (old.code != now.code) return Reason{ReasonCode::CodeChanged, node_id, {}};
  if (auto k = first_difference(old.macros, now.macros); !k.empty())
    return Reason{ReasonCode::MacroChanged, k,
                  !old.macros.count(k) ? "now called" : !now.macros.count(k) ? "no longer called"
                                                                              : ""};
  if (auto k = first_difference(old.config, now.config); !k.empty()) {
    std::string detail;
    if (k == "materialized" && !old.kind.empty() && !now.kind.empty() && old.kind != now.kind)
      detail = fmt::format("{} -> {}", old.kind, now.kind);
    return Reason{ReasonCode::ConfigChanged, k, detail};
  }
  if (old.inputs != now.inputs) return Reason{ReasonCode::InputsChanged, {}, {}};
  auto dynamic = [](const std::string& k) { return !k.empty() && k[0] == '('; };
  if (auto k = first_difference(old.vars, now.vars, true); !k.empty())
    return Reason{dynamic(k) && now.vars.count(k) && now.vars.at(k) == kUnknownValue
                      ? ReasonCode::VarNameDynamic
                      : ReasonCode::VarChanged,
                  k, {}};
  if (auto k = first_difference(old.env_vars, now.env_vars, true); !k.empty())
    return Reason{dynamic(k) ? ReasonCode::VarNameDynamic : ReasonCode::EnvVarChanged, k, {}};
  if (old.kind != now.kind)
    return Reason{ReasonCode::ConfigChanged, "materialized",
                  fmt::format("{} -> {}", old.kind, now.kind)};
  return std::nullopt;
}

}  // namespace orc
