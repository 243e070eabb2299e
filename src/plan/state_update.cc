#include "plan/state_update.h"

#include <unordered_map>

namespace orc {

bool is_success_status(const std::string& status) {
  return status == "success" || status == "pass";
}

namespace {

/// What the entry `e` records of the sources of `in`: their freshness, tokens and change
/// markers as `observed` holds them (unknown ones left out).
void record_sources(const Graph& graph, const EffectiveInputs& in, const Observations& observed,
                    StateEntry& e) {
  for (NodeId s : in.sources) {
    const std::string& sid = graph.nodes[s].unique_id;
    auto f = observed.freshness.find(sid);
    if (f != observed.freshness.end() && f->second) e.sources[sid] = *f->second;
    auto t = observed.tokens.find(sid);
    if (t != observed.tokens.end() && t->second.value) e.source_tokens[sid] = *t->second.value;
    auto m = observed.markers.find(sid);
    if (m != observed.markers.end() && graph.nodes[s].wants_change_marker())
      e.source_markers[sid] = m->second;
  }
}

}  // namespace

State entries_for_results(const Graph& graph, Lineage& lineage, Fingerprinter& fingerprints,
                          const std::vector<NodeResult>& results, const Observations& observed,
                          const State& before, const StateKeys& keys,
                          const std::string& fallback_time, const std::string& target,
                          const Plan* plan) {
  State out;
  // First pass: this run's new versions, so children can record parents built alongside them.
  std::unordered_map<NodeId, std::string> new_version;
  std::unordered_map<NodeId, std::optional<double>> duration;
  for (const auto& r : results) {
    if (!is_success_status(r.status)) continue;
    auto id = graph.find(r.unique_id);
    if (!id) continue;
    new_version[*id] = r.completed_at.empty() ? fallback_time : r.completed_at;
    duration[*id] = r.execution_time;
  }
  for (const auto& [id, version] : new_version) {
    const EffectiveInputs& in = lineage.of(id);
    const std::string& key = keys.key(id);
    StateEntry e;
    e.checksum = in.checksum;
    e.fingerprint = fingerprints.of(id, keys.entry(before, id));
    e.last_updated = version;
    e.build_seconds = duration[id];
    e.target = target;
    const NodeDecision* d = plan ? plan->find(id) : nullptr;
    if (d && d->clone_of) {
      // The relation shows the other target's build (a clone, or a seed loaded from the same
      // file): what that build consumed.
      const StateEntry& from = *d->clone_of;
      e.sources = from.sources;
      e.source_tokens = from.source_tokens;
      e.source_markers = from.source_markers;
      e.build_seconds = from.build_seconds;
      e.cloned_from = from.target;
      e.cloned_version = from.last_updated;
    } else {
      record_sources(graph, in, observed, e);
    }
    e.has_parents = true;

    for (NodeId p : in.nodes) {
      const std::string& pkey = keys.key(p);
      if (auto nv = new_version.find(p); nv != new_version.end()) {
        e.parents[pkey] = nv->second;
      } else if (const StateEntry* old = keys.entry(before, p)) {
        e.parents[pkey] = old->last_updated;  // the parent's version in this node's target
      }
    }
    if (auto old = before.entries.find(key); old != before.entries.end()) {
      e.extra_fields = old->second.extra_fields;  // keep fields other tools added
      const auto& old_fp = old->second.fingerprint;
      if (old_fp && !old_fp->relation.empty() && old_fp->relation != e.fingerprint->relation)
        out.entries.emplace(relation_key(key, old_fp->relation), old->second);
    }
    out.entries.emplace(key, std::move(e));
  }
  return out;
}

std::vector<std::string> entries_of_results(const Graph& graph,
                                            const std::vector<NodeResult>& results,
                                            const State& state, const StateKeys& keys) {
  std::vector<std::string> out;
  for (const auto& r : results) {
    auto id = graph.find(r.unique_id);
    if (!id) continue;
    const Node& n = graph.nodes[*id];
    const std::string& key = keys.key(*id);
    const std::string relation = relation_identity(n);
    if (auto it = state.entries.find(key); it != state.entries.end()) {
      const auto& fp = it->second.fingerprint;
      if (!fp || fp->relation.empty() || fp->relation == relation) out.push_back(key);
    }
    if (!relation.empty())
      if (std::string k = relation_key(key, relation); state.entries.count(k)) out.push_back(k);
  }
  return out;
}

}  // namespace orc
