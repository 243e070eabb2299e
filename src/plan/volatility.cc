#include "plan/volatility.h"

#include "plan/code_normalizer.h"
#include "plan/fingerprint.h"

namespace orc {
namespace {

std::string file_of(const Node& n) {
  return n.original_file_path.empty() ? n.unique_id : n.original_file_path;
}

std::string file_of(const Macro& m) {
  return m.original_file_path.empty() ? m.unique_id : m.original_file_path;
}

bool is_view(const Node& n) { return n.kind == NodeKind::Model && n.materialized == "view"; }

}  // namespace

VolatilityJudge::VolatilityJudge(const Graph& graph, Lineage& lineage)
    : g_(graph), lineage_(lineage), macro_state_(graph.macros.size(), 0),
      macros_(graph.macros.size()) {}

std::vector<uint32_t> VolatilityJudge::callees(const std::vector<std::string>& deps) const {
  std::vector<uint32_t> out;
  for (const std::string& dep : deps) {
    auto it = g_.macro_index.find(dep);
    if (it == g_.macro_index.end()) continue;
    if (is_builtin_macro_package(g_.macros[it->second].package_name)) continue;
    out.push_back(it->second);
  }
  return out;
}

bool VolatilityJudge::closure_reads(uint32_t macro) const {
  std::vector<uint8_t> seen(g_.macros.size(), 0);
  std::vector<uint32_t> stack{macro};
  seen[macro] = 1;
  while (!stack.empty()) {
    const uint32_t m = stack.back();
    stack.pop_back();
    if (reads_clock_or_randomness(g_.macros[m].sql)) return true;
    for (uint32_t c : callees(g_.macros[m].depends_on))
      if (!seen[c]) seen[c] = 1, stack.push_back(c);
  }
  return false;
}

const VolatilityJudge::MacroClock& VolatilityJudge::macro_clock(uint32_t m) {
  if (macro_state_[m] == 2) return macros_[m];
  const Macro& macro = g_.macros[m];
  MacroClock r;
  if (macro_state_[m] == 1) {
    // A cycle of macro calls: what the macro reads is still being judged, so say volatile
    // whenever it or a macro it reaches reads the clock (the safe side).
    if (closure_reads(m)) {
      r.reads = true;
      r.finding = Volatility{false, file_of(macro), {macro.name + "()", ClockPlace::Unparsed},
                             macro.unique_id, {}};
    }
    macros_[m] = r;  // provisional: overwritten once the outer judgement completes
    return macros_[m];
  }
  macro_state_[m] = 1;
  // Callees that read the clock only where their caller puts them become reads at their call.
  std::vector<std::string> follow;
  for (uint32_t c : callees(macro.depends_on)) {
    const MacroClock cc = macro_clock(c);
    if (!cc.reads) continue;
    r.reads = true;
    if (cc.finding && !r.finding) r.finding = cc.finding;
    else if (!cc.finding) follow.push_back(g_.macros[c].name);
  }
  r.reads = r.reads || reads_clock_or_randomness(macro.sql);
  if (r.reads) {
    const ClockReads found = find_clock_reads(normalize_code(macro.sql), follow);
    if (!r.finding && found.first_volatile)
      r.finding = Volatility{false, file_of(macro), *found.first_volatile, macro.unique_id, {}};
    for (size_t k = 0; k < follow.size() && !r.finding; ++k)
      if (!found.calls_found[k])
        r.finding = Volatility{false, file_of(macro), {follow[k] + "()", ClockPlace::UnknownCall},
                               macro.unique_id, {}};
  }
  macros_[m] = std::move(r);
  macro_state_[m] = 2;
  return macros_[m];
}

void VolatilityJudge::scan_unit(NodeId unit, CodeClock& out) {
  const Node& n = g_.nodes[unit];
  if (n.raw_code.empty() || n.kind == NodeKind::Seed) return;
  if (n.language == "python") {
    if (auto w = find_clock_word(n.raw_code)) {
      Volatility v{false, file_of(n), {w->expression, ClockPlace::Python}, {}, {}};
      if (!out.first) out.first = v;
      if (!out.finding) out.finding = v;
    }
    return;
  }
  std::vector<std::string> follow;
  std::vector<uint32_t> follow_ids;
  for (uint32_t c : callees(n.macro_deps)) {
    const MacroClock& mc = macro_clock(c);
    if (!mc.reads) continue;
    if (mc.finding) {
      if (!out.finding) out.finding = mc.finding;
      if (!out.first) out.first = mc.finding;
    } else {
      follow.push_back(g_.macros[c].name);
      follow_ids.push_back(c);
    }
  }
  if (follow.empty() && !reads_clock_or_randomness(n.raw_code)) return;
  const ClockReads found = find_clock_reads(normalize_code(n.raw_code), follow);
  auto at = [&](const ClockRead& read) {
    Volatility v{false, file_of(n), read, {}, {}};
    for (size_t k = 0; k < follow.size(); ++k)  // a call: name the macro that reads
      if (read.expression == follow[k] + "()") v.macro = g_.macros[follow_ids[k]].unique_id;
    return v;
  };
  if (found.first && !out.first) out.first = at(*found.first);
  if (found.first_volatile && !out.finding) out.finding = at(*found.first_volatile);
  for (size_t k = 0; k < follow.size() && !out.finding; ++k)
    if (!found.calls_found[k])
      out.finding = Volatility{false, file_of(n), {follow[k] + "()", ClockPlace::UnknownCall},
                               g_.macros[follow_ids[k]].unique_id, {}};
}

const VolatilityJudge::CodeClock& VolatilityJudge::code_clock(NodeId id) {
  if (auto it = codes_.find(id); it != codes_.end()) return it->second;
  CodeClock out;
  scan_unit(id, out);
  for (NodeId e : lineage_.of(id).ephemerals) scan_unit(e, out);  // inlined into its SQL
  return codes_.emplace(id, std::move(out)).first->second;
}

std::optional<Volatility> VolatilityJudge::through_views(NodeId id,
                                                       const ReadsAnywhere& reads_anywhere) {
  for (NodeId p : lineage_.of(id).nodes) {
    const Node& v = g_.nodes[p];
    // A view with a `volatile` config is built every run (true), or declared stable (false).
    if (!is_view(v) || v.volatile_config) continue;
    for (NodeId e : lineage_.of(p).ephemerals)
      if (g_.nodes[e].volatile_config.value_or(false))
        return Volatility{true, file_of(g_.nodes[e]), {}, {}, v.unique_id};
    if (!reads_anywhere(p)) continue;
    if (const auto& f = code_clock(p).finding) {
      Volatility out = *f;
      out.view = v.unique_id;
      return out;
    }
  }
  return std::nullopt;
}

std::optional<Volatility> VolatilityJudge::judge(NodeId id, VolatilityMode mode,
                                                 const ReadsAnywhere& reads_anywhere) {
  const Node& n = g_.nodes[id];
  if (n.volatile_config) {
    if (!*n.volatile_config) return std::nullopt;
    return Volatility{true, file_of(n), {}, {}, {}};
  }
  // A view is evaluated when read: its readers hold the result (see through_views).
  if (mode == VolatilityMode::Filters && is_view(n)) return std::nullopt;
  for (NodeId e : lineage_.of(id).ephemerals)  // inlined into this node's SQL
    if (g_.nodes[e].volatile_config.value_or(false))
      return Volatility{true, file_of(g_.nodes[e]), {}, {}, {}};
  switch (mode) {
    case VolatilityMode::Never: return std::nullopt;
    case VolatilityMode::Any: {
      if (!reads_anywhere(id)) return std::nullopt;
      if (const auto& first = code_clock(id).first) return *first;
      // Only in a comment, or in a macro's comment: name the first word found.
      auto w = find_clock_word(n.raw_code);
      return Volatility{false, file_of(n), {w ? w->expression : "", ClockPlace::Unparsed}, {}, {}};
    }
    case VolatilityMode::Filters: {
      if (reads_anywhere(id))
        if (const auto& f = code_clock(id).finding) return *f;
      return through_views(id, reads_anywhere);
    }
  }
  return std::nullopt;
}

}  // namespace orc
