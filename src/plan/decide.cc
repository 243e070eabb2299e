#include "plan/decide.h"

#include <fmt/format.h>

namespace orc {
namespace {

/// Two stored timestamps denote the same instant (falls back to text equality when either
/// does not parse).
bool same_instant(const std::string& a, const std::string& b) {
  if (a == b) return true;
  auto ta = parse_timestamp(a), tb = parse_timestamp(b);
  if (ta && tb) return *ta == *tb;
  return a == b;
}

std::string period_text(const BuildAfter& b) {
  return fmt::format("{} {}{}", b.count, b.period, b.count == 1 ? "" : "s");
}

/// Why a node has new upstream data, per input.
struct Upstream {
  bool any_new = false;
  std::string first_reason;         ///< reason of the first new input
  std::string first_stale_parent;   ///< first input without new data (for updates_on: all)
};

class Decider {
 public:
  Decider(const Graph& g, Lineage& lineage, const FreshnessMap& freshness, const State& state,
          Micros now, const DecideSettings& settings)
      : g_(g), lineage_(lineage), freshness_(freshness), state_(state), now_(now),
        settings_(settings), build_after_(effective_build_after(g)),
        entries_(g.nodes.size(), nullptr), entry_known_(g.nodes.size(), false) {
    plan_.decision_index.assign(g.nodes.size(), -1);
    if (!settings.asset_prefix.empty()) {
      keys_.reserve(g.nodes.size());
      for (const Node& n : g.nodes) keys_.push_back(asset_id(n, settings));
    }
  }

  Plan run(const std::vector<NodeId>& selected) {
    std::vector<bool> is_selected(g_.nodes.size(), false);
    for (NodeId id : selected)
      if (id < g_.nodes.size() && is_decidable(g_.nodes[id])) is_selected[id] = true;
    for (NodeId id : g_.topological_order()) {
      if (!is_selected[id]) continue;
      plan_.decision_index[id] = static_cast<int32_t>(plan_.decisions.size());
      plan_.decisions.push_back(decide_one(id));
      if (plan_.decisions.back().action == Action::Build) ++plan_.build_count;
      else ++plan_.reuse_count;
    }
    return std::move(plan_);
  }

 private:
  /// The node's state key (its unique_id unless keys are account-scoped).
  const std::string& key(NodeId id) const {
    return keys_.empty() ? g_.nodes[id].unique_id : keys_[id];
  }

  /// The node's state entry, looked up once.
  const StateEntry* entry_of(NodeId id) {
    if (!entry_known_[id]) {
      auto it = state_.entries.find(key(id));
      entries_[id] = it == state_.entries.end() ? nullptr : &it->second;
      entry_known_[id] = true;
    }
    return entries_[id];
  }

  bool built_now(NodeId id) const {
    const NodeDecision* d = plan_.find(id);
    return d && d->action == Action::Build;
  }

  /// Has node parent `p` changed since `entry` (the child's) was recorded? Sets `why`.
  bool parent_changed(NodeId p, const StateEntry& entry, std::string& why) {
    const std::string& pid = g_.nodes[p].unique_id;
    if (built_now(p)) {
      why = fmt::format("parent {} is built in this run", pid);
      return true;
    }
    const StateEntry* pe = entry_of(p);
    if (!pe) {
      why = fmt::format("parent {} has no state entry", pid);
      return true;
    }
    if (entry.has_parents) {
      auto it = entry.parents.find(key(p));
      if (it == entry.parents.end()) {
        why = fmt::format("parent {} was not an input at the last build", pid);
        return true;
      }
      if (!same_instant(it->second, pe->last_updated)) {
        why = fmt::format("parent {} was rebuilt since the last build ({} -> {})", pid,
                          it->second, pe->last_updated);
        return true;
      }
      return false;
    }
    // Entry written by the reference: compare build times instead of recorded versions.
    auto mine = parse_timestamp(entry.last_updated), theirs = parse_timestamp(pe->last_updated);
    if (!mine || !theirs || *theirs > *mine) {
      why = fmt::format("parent {} was rebuilt after the last build ({} > {})", pid,
                        pe->last_updated, entry.last_updated);
      return true;
    }
    return false;
  }

  Upstream upstream_of(NodeId id, const StateEntry& entry, NodeDecision& d) {
    Upstream up;
    const EffectiveInputs& in = lineage_.of(id);
    auto note = [&](bool is_new, const std::string& why, const std::string& uid) {
      if (is_new && !up.any_new) up.first_reason = why;
      if (!is_new && up.first_stale_parent.empty()) up.first_stale_parent = uid;
      up.any_new |= is_new;
    };
    for (NodeId s : in.sources) {
      const std::string& sid = g_.nodes[s].unique_id;
      SourceInput si{s, std::nullopt, std::nullopt, false};
      if (auto r = entry.sources.find(sid); r != entry.sources.end()) si.recorded = r->second;
      if (auto f = freshness_.find(sid); f != freshness_.end()) si.current = f->second;
      std::string why;
      if (!si.current) {
        si.is_new = true;
        why = fmt::format("freshness of {} is unknown (assume new data)", sid);
      } else if (!si.recorded) {
        si.is_new = true;
        why = fmt::format("no max_loaded_at recorded for {}", sid);
      } else if (!same_instant(*si.recorded, *si.current)) {
        si.is_new = true;
        why = fmt::format("new data in {} (max_loaded_at {} -> {})", sid, *si.recorded,
                          *si.current);
      }
      note(si.is_new, why, sid);
      d.sources.push_back(std::move(si));
    }
    for (NodeId p : in.nodes) {
      std::string why;
      bool changed = parent_changed(p, entry, why);
      note(changed, why, g_.nodes[p].unique_id);
    }
    return up;
  }

  NodeDecision decide_one(NodeId id) {
    const Node& n = g_.nodes[id];
    NodeDecision d;
    d.node = id;
    d.checksum_new = lineage_.of(id).checksum;
    const StateEntry* entry = entry_of(id);
    if (entry) {
      d.has_entry = true;
      d.checksum_old = entry->checksum;
      d.last_updated = entry->last_updated;
    }
    auto build = [&](std::string why) {
      d.action = Action::Build;
      d.reason = std::move(why);
      return d;
    };
    auto reuse = [&](std::string why) {
      d.action = Action::Reuse;
      d.reason = std::move(why);
      return d;
    };

    if (settings_.full_refresh) return build("--full-refresh: reuse is off");
    if (n.kind == NodeKind::Snapshot) return build("snapshot: always built");
    if (n.kind == NodeKind::Seed && !settings_.seed_state_orchestration)
      return build("seed: always built (seed_state_orchestration is off)");
    if (n.kind == NodeKind::Other)
      return build(fmt::format("{}: always built", n.resource_type));
    if (n.kind == NodeKind::Model && n.package_name != g_.root_project && n.parents.empty())
      return build(fmt::format("model of package {} without parents: always built",
                               n.package_name));
    if (n.is_test()) {
      for (NodeId p : n.parents)
        if (g_.nodes[p].kind == NodeKind::Source)
          return build(fmt::format("tests source {}", g_.nodes[p].unique_id));
      for (NodeId p : lineage_.of(id).nodes)
        if (built_now(p)) return build(fmt::format("parent {} is built in this run",
                                                   g_.nodes[p].unique_id));
    }
    if (!entry) return build("no state entry");
    if (entry->checksum != d.checksum_new) return build("checksum changed");

    Upstream up = upstream_of(id, *entry, d);
    if (n.is_test()) {
      if (up.any_new) return build(up.first_reason);
      return reuse("all parents reused and unchanged since the last run");
    }
    if (!up.any_new)
      return reuse(n.kind == NodeKind::Seed ? "seed file unchanged since the last build"
                                            : "no new upstream data since the last build");

    const auto& [ba, inherited] = build_after_[id];
    if (ba) {
      d.build_after = ba;
      d.build_after_inherited = inherited;
      const char* from = inherited ? " (inherited from children)" : "";
      if (ba->updates_on_all && !up.first_stale_parent.empty())
        return reuse(fmt::format("build_after updates_on all{}: {} has no new data yet", from,
                                 up.first_stale_parent));
      auto last = parse_timestamp(entry->last_updated);
      if (last && now_ - *last < ba->window())
        return reuse(fmt::format("build_after {}{}: last built {} ({})", period_text(*ba), from,
                                 entry->last_updated, up.first_reason));
    }
    return build(up.first_reason);
  }

  const Graph& g_;
  Lineage& lineage_;
  const FreshnessMap& freshness_;
  const State& state_;
  Micros now_;
  const DecideSettings& settings_;
  std::vector<std::pair<std::optional<BuildAfter>, bool>> build_after_;
  std::vector<std::string> keys_;  ///< account-scoped keys; empty when keys are unique_ids
  std::vector<const StateEntry*> entries_;
  std::vector<bool> entry_known_;
  Plan plan_;
};

}  // namespace

std::string asset_id(const Node& node, const DecideSettings& settings) {
  if (settings.asset_prefix.empty()) return node.unique_id;
  return settings.asset_prefix + (node.relation_name.empty() ? node.unique_id : node.relation_name);
}

bool is_decidable(const Node& n) {
  switch (n.kind) {
    case NodeKind::Model: return !n.is_ephemeral();
    case NodeKind::Seed:
    case NodeKind::Snapshot:
    case NodeKind::Test:
    case NodeKind::UnitTest: return true;
    case NodeKind::Source: return false;
    case NodeKind::Other: return n.resource_type == "function" || n.resource_type == "saved_query";
  }
  return false;
}

std::vector<std::pair<std::optional<BuildAfter>, bool>> effective_build_after(const Graph& g) {
  std::vector<std::pair<std::optional<BuildAfter>, bool>> out(g.nodes.size());
  std::vector<NodeId> order = g.topological_order();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {  // children first
    const Node& n = g.nodes[*it];
    if (n.build_after) {
      out[*it] = {n.build_after, false};
      continue;
    }
    if (n.is_test() || n.kind == NodeKind::Source) continue;
    std::optional<BuildAfter> smallest;
    bool all = false;
    for (NodeId c : n.children) {
      if (g.nodes[c].is_test()) continue;
      const auto& cb = out[c].first;
      if (!cb) {
        all = false;
        smallest.reset();
        break;
      }
      all = true;
      if (!smallest || cb->window() < smallest->window()) smallest = cb;
    }
    if (all && smallest) out[*it] = {smallest, true};
  }
  return out;
}

Plan decide(const Graph& graph, Lineage& lineage, const std::vector<NodeId>& selected,
            const FreshnessMap& freshness, const State& state, Micros now,
            const DecideSettings& settings) {
  return Decider(graph, lineage, freshness, state, now, settings).run(selected);
}

}  // namespace orc
