#include "plan/decide.h"

#include <fmt/format.h>

#include <cctype>

#include "core/parallel.h"

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

/// A node's fingerprint compared with its state entry's. It does not depend on the other
/// decisions, so both passes of decide() share it.
struct FingerprintVerdict {
  std::optional<Reason> changed;             ///< the first differing component, if any
  std::vector<ComponentChange> changes;      ///< every differing component
  FingerprintSummary now;                    ///< watch lists of the current fingerprint
};
using Verdicts = std::vector<std::optional<FingerprintVerdict>>;

/// Node `id`'s fingerprint judged against `entry`'s (which has one): equal digests settle it;
/// otherwise the fingerprint is built and compared component by component. Pure given the
/// fingerprinter's memos, so decide() judges many nodes at once after Fingerprinter::prepare.
FingerprintVerdict judge_fingerprint(Fingerprinter& fingerprints, const Graph& g, NodeId id,
                                     const StateEntry& entry) {
  FingerprintVerdict v;
  v.now = fingerprints.summary(id, &entry);
  if (v.now.has_unknown || v.now.digest != fingerprint_digest(*entry.fingerprint)) {
    const Fingerprint now_fp = fingerprints.of(id, &entry);
    v.changed = compare_fingerprints(*entry.fingerprint, now_fp, g.nodes[id].unique_id);
    if (v.changed) v.changes = fingerprint_changes(*entry.fingerprint, now_fp);
  }
  return v;
}

/// The part of a parent check that reads only the state (design.md, "Engine performance"):
/// has parent `p` (state entry `pe`, may be null) changed since `entry` (child's) was recorded,
/// as far as the recorded versions tell? nullopt if not. Whether `p` builds in this run is the
/// caller's to check first.
/// A parent whose entry is a clone of another target's relation has changed unless the run
/// checked that relation (`clone_checked`): a view clone shows that target's later builds.
std::optional<Reason> recorded_parent_changed(const Graph& g, const StateKeys& keys,
                                              NodeId child, NodeId p, const StateEntry& entry,
                                              const StateEntry* pe, bool clone_checked = false) {
  const std::string& pid = g.nodes[p].unique_id;
  if (!pe) return Reason{ReasonCode::ParentNoEntry, pid, {}};
  if (pe->is_clone() && !clone_checked) return Reason{ReasonCode::ParentCloneUnchecked, pid, {}};
  if (entry.has_parents) {
    auto it = entry.parents.find(keys.key(p));
    if (it == entry.parents.end()) return Reason{ReasonCode::ParentNotRecorded, pid, {}};
    if (!same_instant(it->second, pe->last_updated))
      return Reason{ReasonCode::ParentRebuilt, pid,
                    fmt::format("{} -> {}", it->second, pe->last_updated)};
    return std::nullopt;
  }
  // Entry written by the reference: compare build times instead of recorded versions. A unit
  // test reads fixtures, not its model's data (and dbt runs it just before the model).
  if (g.nodes[child].kind == NodeKind::UnitTest) return std::nullopt;
  auto mine = parse_timestamp(entry.last_updated), theirs = parse_timestamp(pe->last_updated);
  if (!mine || !theirs || *theirs > *mine)
    return Reason{ReasonCode::ParentRebuilt, pid,
                  fmt::format("{} > {}", pe->last_updated, entry.last_updated)};
  return std::nullopt;
}

/// Whether dbt's clone materialization makes a table clone (not a view) on `adapter_type`.
bool can_clone_tables(const std::string& adapter_type) {
  return adapter_type == "snowflake" || adapter_type == "bigquery" ||
         adapter_type == "databricks" || adapter_type == "spark";
}

/// Whether `text` is a SHA-256 digest in hex (what dbt records for a seed it hashed).
bool is_sha256_hex(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

/// Per selected node with a fingerprinted entry, one flag per parent of its lineage (in
/// Lineage order): 1 when recorded_parent_changed found nothing, filled up front on every
/// core. Nodes without flags (`offset` = kNone) are checked in the sequential pass.
struct ParentFlags {
  static constexpr uint32_t kNone = UINT32_MAX;
  std::vector<uint32_t> offset;  ///< per node: index of its first flag, or kNone
  std::vector<uint8_t> unchanged;
};

/// Each node's state entry, looked up at most once and shared by both passes of decide().
struct Entries {
  std::vector<const StateEntry*> entry;
  std::vector<uint8_t> known;  ///< 1 once entry[id] is looked up (bytes: filled in parallel)
};

/// Why a node has new upstream data, per input.
struct Upstream {
  bool any_new = false;
  Reason first;                     ///< reason of the first new input
  std::string first_stale_parent;   ///< first input without new data (for updates_on: all)
};

class Decider {
 public:
  Decider(const Graph& g, Lineage& lineage, Fingerprinter& fingerprints,
          const Observations& observed, const State& state, const StateKeys& keys,
          Micros now, const DecideSettings& settings, Verdicts& verdicts, Entries& entries,
          const ParentFlags& parent_flags, const TargetEntries* other)
      : g_(g), lineage_(lineage), fingerprints_(fingerprints), verdicts_(verdicts),
        entries_(entries), parent_flags_(parent_flags), observed_(observed), state_(state),
        keys_(keys), other_(other), now_(now),
        settings_(settings), build_after_(effective_build_after(g)) {
    plan_.decision_index.assign(g.nodes.size(), -1);
  }

  /// Nodes to build whatever else holds, each with the unit test that needs it.
  std::unordered_map<NodeId, NodeId> forced;

  Plan run(const std::vector<NodeId>& selected) {
    std::vector<bool> is_selected(g_.nodes.size(), false);
    for (NodeId id : selected)
      if (id < g_.nodes.size() && is_decidable(g_.nodes[id])) is_selected[id] = true;
    for (NodeId id : g_.topological_order()) {
      if (!is_selected[id]) continue;
      plan_.decision_index[id] = static_cast<int32_t>(plan_.decisions.size());
      plan_.decisions.push_back(decide_one(id));
      switch (plan_.decisions.back().action) {
        case Action::Build: ++plan_.build_count; break;
        case Action::Reuse: ++plan_.reuse_count; break;
        case Action::Clone: ++plan_.clone_count; break;
      }
    }
    for (NodeId id = 0; id < g_.nodes.size(); ++id)
      if (g_.nodes[id].producer != kNoNode && source_rebuilt_now(id))
        plan_.sources_rebuilt.push_back(id);
    return std::move(plan_);
  }

 private:
  /// The node's state entry for its current relation, looked up once.
  const StateEntry* entry_of(NodeId id) {
    if (!entries_.known[id]) {
      entries_.entry[id] = keys_.entry(state_, id);
      entries_.known[id] = 1;
    }
    return entries_.entry[id];
  }

  /// The node's fingerprint against `entry`'s (which has one), judged once (decide() judges
  /// the selected nodes up front; others, e.g. a producer seed outside the selection, here).
  const FingerprintVerdict& verdict(NodeId id, const StateEntry& entry) {
    auto& slot = verdicts_[id];
    if (!slot) slot = judge_fingerprint(fingerprints_, g_, id, entry);
    return *slot;
  }

  /// Whether the node's relation gets another version in this run: built, or cloned.
  bool built_now(NodeId id) const {
    const NodeDecision* d = plan_.find(id);
    return d && d->action != Action::Reuse;
  }

  /// Has parent number `i` (`p`) of the child's lineage changed since `entry` (child's) was
  /// recorded? nullopt if not. The state's side may have been checked up front (`flags`).
  std::optional<Reason> parent_changed(NodeId child, size_t i, NodeId p, const StateEntry& entry) {
    const NodeDecision* pd = plan_.find(p);
    if (pd && pd->action != Action::Reuse)
      return Reason{pd->action == Action::Build ? ReasonCode::ParentBuilt : ReasonCode::ParentCloned,
                    g_.nodes[p].unique_id, {}};
    const uint32_t first = parent_flags_.offset.empty() ? ParentFlags::kNone
                                                        : parent_flags_.offset[child];
    if (first != ParentFlags::kNone && parent_flags_.unchanged[first + i]) return std::nullopt;
    const StateEntry* pe = entry_of(p);
    // A clone parent is what its entry says when this run found it current: decided so, or
    // (not selected) the other target still holds the version it cloned.
    bool clone_checked = pd != nullptr || (pe && pe->is_clone() && clone_current(*pe, p));
    return recorded_parent_changed(g_, keys_, child, p, entry, pe, clone_checked);
  }

  /// Whether clone entry `pe` of node `p` still shows the version it cloned: the run reuses
  /// from its target, whose entry of `p` is still that version.
  bool clone_current(const StateEntry& pe, NodeId p) const {
    if (!other_ || other_->target() != pe.cloned_from) return false;
    const StateEntry* from = other_->find(keys_.key(p));
    return from && from->last_updated == pe.cloned_version;
  }

  /// Whether source `s` reads a relation this run rebuilds with possibly other rows (a seed
  /// loaded as a raw table whose file or config changed, a snapshot, a model): measured before
  /// dbt ran, its freshness says nothing of what its readers will read (design.md, "Sources
  /// over relations the run builds").
  std::optional<Reason> source_rebuilt_now(NodeId s) {
    const NodeId p = g_.nodes[s].producer;
    if (p == kNoNode || !built_now(p)) return std::nullopt;
    if (g_.nodes[p].kind == NodeKind::Seed && !settings_.full_refresh) {
      // A seed rebuilt from the same file and config as its recorded build loads the same rows.
      const StateEntry* e = entry_of(p);
      if (e && e->fingerprint && !verdict(p, *e).changed) return std::nullopt;
    }
    return Reason{ReasonCode::SourceRelationBuilt, g_.nodes[s].unique_id, g_.nodes[p].unique_id};
  }

  /// The prefix of SourceInput::method when a source's freshness is unknown; the rest is why.
  static constexpr std::string_view kUnknown = "unknown: ";

  /// What is known of source `s` now and what `entry` recorded of it: its max_loaded_at when it
  /// has loaded_at_* (with its change marker unless it opted out), else its data-change token.
  /// `method` starts "unknown: " when there is no current value.
  SourceInput source_input(NodeId s, const StateEntry& entry) const {
    const Node& src = g_.nodes[s];
    SourceInput si{s, std::nullopt, std::nullopt, false, {}, std::nullopt, std::nullopt};
    if (src.has_loaded_at()) {
      si.method = src.loaded_at_query.empty() ? "loaded_at_field" : "loaded_at_query";
      if (auto r = entry.sources.find(src.unique_id); r != entry.sources.end())
        si.recorded = r->second;
      if (auto f = observed_.freshness.find(src.unique_id); f != observed_.freshness.end())
        si.current = f->second;
      if (!si.current) si.method = std::string(kUnknown) + "its freshness query gave no value";
      if (src.wants_change_marker()) {
        if (auto r = entry.source_markers.find(src.unique_id); r != entry.source_markers.end())
          si.recorded_marker = r->second;
        if (auto m = observed_.markers.find(src.unique_id); m != observed_.markers.end())
          si.current_marker = m->second;
      }
      return si;
    }
    auto t = observed_.tokens.find(src.unique_id);
    if (t == observed_.tokens.end() || !t->second.value) {
      si.method = std::string(kUnknown) + (t == observed_.tokens.end() || t->second.why_unknown.empty()
                                     ? std::string("no loaded_at_field or loaded_at_query")
                                     : t->second.why_unknown);
      return si;
    }
    si.method = t->second.method;
    si.current = t->second.value;
    if (auto r = entry.source_tokens.find(src.unique_id); r != entry.source_tokens.end())
      si.recorded = r->second;
    return si;
  }

  /// Why source `s` (as `si` holds what is known of it) has new data since the entry `si` was
  /// read from, or nullopt.
  std::optional<Reason> source_changed(NodeId s, const SourceInput& si) {
    const std::string& sid = g_.nodes[s].unique_id;
    if (auto rebuilt = source_rebuilt_now(s)) return rebuilt;
    if (!si.current)
      return Reason{ReasonCode::SourceFreshnessUnknown, sid, si.method.substr(kUnknown.size())};
    if (!si.recorded) return Reason{ReasonCode::SourceNotRecorded, sid, {}};
    if (si.method == "fingerprint" ? *si.recorded != *si.current
                                   : !same_instant(*si.recorded, *si.current))
      return Reason{ReasonCode::SourceNewData, sid,
                    fmt::format("{}: {} -> {}", si.method, *si.recorded, *si.current)};
    if (si.recorded_marker && si.current_marker && *si.recorded_marker != *si.current_marker)
      return Reason{ReasonCode::SourceMarkerChanged, sid,
                    fmt::format("{} -> {}", *si.recorded_marker, *si.current_marker)};
    return std::nullopt;
  }

  Upstream upstream_of(NodeId id, const StateEntry& entry, NodeDecision& d) {
    Upstream up;
    const EffectiveInputs& in = lineage_.of(id);
    if (g_.nodes[id].kind != NodeKind::Seed) {
      if (auto why = fingerprints_.volatility(id, settings_.volatility)) {
        up.any_new = true;
        up.first = volatile_reason(*why);
      }
    }
    auto note = [&](std::optional<Reason> why, const std::string& uid) {
      if (why && !up.any_new) up.first = std::move(*why);
      if (!why && up.first_stale_parent.empty()) up.first_stale_parent = uid;
      up.any_new |= why.has_value();
    };
    d.parents.reserve(in.nodes.size());
    d.sources.reserve(in.sources.size());
    for (size_t i = 0; i < in.nodes.size(); ++i) {
      const NodeId p = in.nodes[i];
      std::optional<Reason> why = parent_changed(id, i, p, entry);
      d.parents.push_back(ParentInput{p, why});
      note(std::move(why), g_.nodes[p].unique_id);
    }
    for (NodeId s : in.sources) {
      SourceInput si = source_input(s, entry);
      std::optional<Reason> why = source_changed(s, si);
      const std::string& sid = g_.nodes[s].unique_id;
      si.is_new = why.has_value();
      note(std::move(why), sid);
      d.sources.push_back(std::move(si));
    }
    return up;
  }

  /// The warehouse check: nullopt when the relation is there with the kind it was built as.
  std::optional<Reason> relation_problem(const Node& n, const Fingerprint& recorded) {
    if (!observed_.relations.enabled || n.is_test() || recorded.kind.empty()) return std::nullopt;
    std::optional<std::string> seen = observed_.relations.lookup(n);
    if (!seen) return Reason{ReasonCode::RelationUnverified, n.relation_name, {}};
    if (seen->empty()) return Reason{ReasonCode::RelationMissing, n.relation_name, {}};
    if (*seen != recorded.kind && *seen != "unknown")
      return Reason{ReasonCode::RelationKindChanged, n.relation_name,
                    fmt::format("{} -> {}", recorded.kind, *seen)};
    return std::nullopt;
  }

  NodeDecision decide_one(NodeId id) {
    NodeDecision d = decide_own(id);
    if (other_ && d.action == Action::Build && may_clone(g_.nodes[id], d.reason.code))
      return try_clone(id, std::move(d));
    return d;
  }

  /// Whether a node built for `why` may be cloned instead under --reuse-from: a model, seed or
  /// test (a unit test too) built for a reason that is not "always built" or "reads the clock".
  static bool may_clone(const Node& n, ReasonCode why) {
    if (!(n.kind == NodeKind::Model || n.kind == NodeKind::Seed || n.is_test())) return false;
    switch (why) {
      case ReasonCode::FullRefresh:
      case ReasonCode::EmptyRun:
      case ReasonCode::Snapshot:
      case ReasonCode::AlwaysBuilt:
      case ReasonCode::UnitTestNeedsModel:
      case ReasonCode::PackageModelWithoutParents:
      case ReasonCode::TestsSource:
      case ReasonCode::Volatile: return false;
      default: return true;
    }
  }

  /// Whether the node's code, its ephemerals' and hooks, or a macro it calls read `target`.
  bool reads_target(NodeId id) {
    const Node& n = g_.nodes[id];
    if (reads_target_variable(n.raw_code) || reads_target_variable(n.hooks_text)) return true;
    for (NodeId e : lineage_.of(id).ephemerals)
      if (reads_target_variable(g_.nodes[e].raw_code)) return true;
    if (macro_reads_target_.empty()) macro_reads_target_.assign(g_.macros.size(), 0);
    for (uint32_t m : fingerprints_.reads(id).macros) {
      uint8_t& known = macro_reads_target_[m];
      if (!known) known = reads_target_variable(g_.macros[m].sql) ? 2 : 1;
      if (known == 2) return true;
    }
    return false;
  }

  /// Under --reuse-from: node `id`, decided `d` (Build), is cloned from the other target
  /// instead when that target's entry of it is what a build here would give (docs/design.md,
  /// "Reusing another target's builds"); else it is built, `d` saying why it was not cloned.
  NodeDecision try_clone(NodeId id, NodeDecision d) {
    const Node& n = g_.nodes[id];
    const std::string& target = other_->target();
    auto build = [&](ReasonCode code, std::string subject, std::string detail = {}) {
      d.reason = Reason{code, std::move(subject), std::move(detail)};
      return std::move(d);
    };
    const StateEntry* from = other_->find(keys_.key(id));
    if (!from || !from->fingerprint) return build(ReasonCode::TargetHasNoEntry, target);
    // dbt's checksum of a seed over 1 MiB is its path, not its content: nothing to compare.
    if (n.kind == NodeKind::Seed && !is_sha256_hex(n.checksum))
      return build(ReasonCode::FingerprintDiffersFromTarget, target,
                   "dbt does not hash this seed's file (over 1 MiB), so its content cannot be "
                   "compared; seed_state_orchestration = true hashes it");
    // Its fingerprint as that target has it: that target's relation, read from its parents.
    Fingerprint now = fingerprints_.of(id, from);
    now.relation = from->fingerprint->relation;
    now.inputs = fingerprints_.inputs_with(id, [&](NodeId p) {
      const StateEntry* pe = other_->find(keys_.key(p));
      return pe && pe->fingerprint ? pe->fingerprint->relation : std::string("(no entry)");
    });
    if (auto differs = compare_fingerprints(*from->fingerprint, now, n.unique_id))
      return build(ReasonCode::FingerprintDiffersFromTarget, target, reason_text(*differs));
    if (reads_target(id)) return build(ReasonCode::ReadsTarget, n.original_file_path);
    // Where dbt clones through its view materialization, the node's hooks run on the view
    // (a post-hook deleting from {{ this }} fails there): such a node is built.
    if (!n.hooks_text.empty() && !n.is_test() && !can_clone_tables(g_.adapter_type))
      return build(ReasonCode::HooksOnViewClone, n.original_file_path);
    if (n.kind != NodeKind::Seed)
      if (auto why = fingerprints_.volatility(id, settings_.volatility))
        return build(ReasonCode::Volatile, why->file, volatile_reason(*why).detail);
    const EffectiveInputs& in = lineage_.of(id);
    for (NodeId p : in.nodes) {
      const std::string& pid = g_.nodes[p].unique_id;
      const StateEntry* pfrom = other_->find(keys_.key(p));
      // After this run, this target's relation of the parent must be that target's version.
      bool same = false;
      if (const NodeDecision* pd = plan_.find(p))
        same = pd->clone_of != nullptr ||  // cloned, or a seed loaded like that target's
               (pd->action == Action::Reuse && pd->reason.code == ReasonCode::CloneStillCurrent);
      else if (const StateEntry* pe = entry_of(p); pe && pe->is_clone())
        same = clone_current(*pe, p);
      if (!same || !pfrom) return build(ReasonCode::ParentNotCloned, pid);
      // ... and the version that target's build of this node read.
      auto read = from->parents.find(keys_.key(p));
      if (read == from->parents.end())
        return build(ReasonCode::TargetParentVersionDiffers, pid, "not recorded");
      if (!same_instant(read->second, pfrom->last_updated))
        return build(ReasonCode::TargetParentVersionDiffers, pid,
                     fmt::format("{} -> {}", read->second, pfrom->last_updated));
    }
    for (NodeId s : in.sources)
      if (auto why = source_changed(s, source_input(s, *from)))
        return build(ReasonCode::NewDataSinceTargetBuild, g_.nodes[s].unique_id,
                     reason_text(*why));
    if (!n.is_test()) {
      const std::string& relation = from->fingerprint->relation;
      auto parts = split_relation_name(relation);
      std::optional<std::string> seen;
      if (observed_.relations.enabled && parts)
        seen = observed_.relations.lookup(parts->database, parts->schema, parts->identifier);
      if (!seen) return build(ReasonCode::TargetRelationUnverified, relation);
      if (seen->empty()) return build(ReasonCode::TargetRelationMissing, relation);
    }
    // Already a clone of that very build, and still there: nothing to do.
    const StateEntry* own = entry_of(id);
    if (own && own->is_clone() && own->cloned_from == target &&
        own->cloned_version == from->last_updated && own->fingerprint &&
        own->fingerprint->relation == relation_identity(n)) {
      std::optional<std::string> here =
          observed_.relations.enabled ? observed_.relations.lookup(n) : std::nullopt;
      if (n.is_test() || (here && !here->empty())) {
        d.action = Action::Reuse;
        d.reason = Reason{ReasonCode::CloneStillCurrent, target, {}};
        return d;
      }
    }
    d.clone_of = from;
    if (n.kind == NodeKind::Seed && !can_clone_tables(g_.adapter_type)) {
      // dbt clones a table here as a view, and dbt cannot seed over a view later: the seed is
      // loaded from the same file instead, which gives that target's very rows.
      d.action = Action::Build;
      d.reason = Reason{ReasonCode::SeedLoadedLikeTarget, target, {}};
      return d;
    }
    d.action = Action::Clone;
    d.reason = Reason{ReasonCode::ClonedFromTarget, target,
                      n.is_test() ? std::string() : "relation " + from->fingerprint->relation};
    return d;
  }

  /// The decision by this target's own entry (rules 1-5).
  NodeDecision decide_own(NodeId id) {
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
    auto build = [&](ReasonCode code, std::string subject = {}, std::string detail = {}) {
      d.action = Action::Build;
      d.reason = Reason{code, std::move(subject), std::move(detail)};
      return d;
    };
    auto decide_as = [&](Action action, Reason why) {
      d.action = action;
      d.reason = std::move(why);
      return d;
    };

    if (settings_.full_refresh) return build(ReasonCode::FullRefresh);
    if (settings_.placeholder_data) return build(ReasonCode::EmptyRun);
    if (auto f = forced.find(id); f != forced.end())
      return build(ReasonCode::UnitTestNeedsModel, g_.nodes[f->second].unique_id);
    if (n.kind == NodeKind::Snapshot) return build(ReasonCode::Snapshot);
    if (n.kind == NodeKind::Seed && !settings_.seed_state_orchestration)
      return build(ReasonCode::SeedAlways);
    if (n.kind == NodeKind::Other) return build(ReasonCode::AlwaysBuilt, n.resource_type);
    if (n.kind == NodeKind::Model && n.package_name != g_.root_project && n.parents.empty())
      return build(ReasonCode::PackageModelWithoutParents, n.package_name);
    if (n.is_test()) {
      for (NodeId p : n.parents)
        if (g_.nodes[p].kind == NodeKind::Source)
          return build(ReasonCode::TestsSource, g_.nodes[p].unique_id);
      for (NodeId p : lineage_.of(id).nodes)
        if (built_now(p)) return build(ReasonCode::ParentBuilt, g_.nodes[p].unique_id);
    }
    if (!entry) return build(ReasonCode::NoStateEntry);
    // A clone shows another target's relation: judged only against that target's entry.
    if (entry->is_clone()) return build(ReasonCode::CloneUnchecked, entry->cloned_from);
    if (!entry->fingerprint) return build(ReasonCode::FingerprintUnrecorded);
    const FingerprintVerdict& fv = verdict(id, *entry);
    d.watched_vars = fv.now.watched_vars;
    d.watched_env_vars = fv.now.watched_env_vars;
    d.watched_macros = fv.now.watched_macros;
    if (fv.changed) {
      d.fingerprint_changes = fv.changes;
      Reason why = *fv.changed;
      // A package's var or config (its dbt_project.yml, on an upgrade): the reason names it.
      if (n.package_name != g_.root_project && why.detail.empty() &&
          (why.code == ReasonCode::VarChanged || why.code == ReasonCode::ConfigChanged))
        why.detail = fmt::format("package {}", n.package_name);
      return decide_as(Action::Build, std::move(why));
    }
    if (auto problem = relation_problem(n, *entry->fingerprint)) {
      d.relation_check = reason_code_name(problem->code);
      return decide_as(Action::Build, std::move(*problem));
    }
    if (observed_.relations.enabled && !n.is_test() && !entry->fingerprint->kind.empty())
      d.relation_check = "ok";

    Upstream up = upstream_of(id, *entry, d);
    if (n.is_test()) {
      if (up.any_new) return decide_as(Action::Build, std::move(up.first));
      return decide_as(Action::Reuse, Reason{ReasonCode::TestParentsReused, {}, {}});
    }
    if (!up.any_new)
      return decide_as(Action::Reuse, Reason{n.kind == NodeKind::Seed ? ReasonCode::SeedUnchanged
                                                                        : ReasonCode::NoNewData,
                                             {}, {}});

    const auto& [ba, inherited] = build_after_[id];
    if (ba) {
      d.build_after = ba;
      d.build_after_inherited = inherited;
      const char* from = inherited ? " (inherited from children)" : "";
      if (ba->updates_on_all && !up.first_stale_parent.empty())
        return decide_as(Action::Reuse, Reason{ReasonCode::BuildAfterWaitingForAll,
                                               up.first_stale_parent,
                                               inherited ? "inherited from children" : ""});
      auto last = parse_timestamp(entry->last_updated);
      if (last && now_ - *last < ba->window())
        return decide_as(Action::Reuse,
                         Reason{ReasonCode::BuildAfterWindow,
                                fmt::format("{}{}", period_text(*ba), from),
                                fmt::format("last built {}; {}", entry->last_updated,
                                            reason_text(up.first))});
    }
    return decide_as(Action::Build, std::move(up.first));
  }

  const Graph& g_;
  Lineage& lineage_;
  Fingerprinter& fingerprints_;
  Verdicts& verdicts_;
  Entries& entries_;
  const ParentFlags& parent_flags_;
  const Observations& observed_;
  const State& state_;
  const StateKeys& keys_;
  const TargetEntries* other_;  ///< --reuse-from's target, or null
  std::vector<uint8_t> macro_reads_target_;  ///< per macro: 0 unknown, 1 no, 2 yes
  Micros now_;
  const DecideSettings& settings_;
  std::vector<std::pair<std::optional<BuildAfter>, bool>> build_after_;
  Plan plan_;
};

}  // namespace

const char* action_name(Action action) {
  switch (action) {
    case Action::Build: return "build";
    case Action::Reuse: return "reuse";
    case Action::Clone: return "clone";
  }
  return "build";
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
      // Equal windows: `any` wins over `all` (it builds on less evidence, so it is never the
      // staler choice), whatever the order of the children.
      if (!smallest || cb->window() < smallest->window() ||
          (cb->window() == smallest->window() && smallest->updates_on_all && !cb->updates_on_all))
        smallest = cb;
    }
    if (all && smallest) out[*it] = {smallest, true};
  }
  return out;
}

Plan decide(const Graph& graph, Lineage& lineage, Fingerprinter& fingerprints,
            const std::vector<NodeId>& selected, const Observations& observed,
            const State& state, const StateKeys& keys, Micros now,
            const DecideSettings& settings, const TargetEntries* other) {
  // The per-node lookups and code scans are independent: done up front on every core.
  Entries entries{std::vector<const StateEntry*>(graph.nodes.size(), nullptr),
                  std::vector<uint8_t>(graph.nodes.size(), 0)};
  std::vector<NodeId> todo;  // each selected node once (two threads must not share a slot)
  todo.reserve(selected.size());
  for (NodeId id : selected)
    if (id < graph.nodes.size() && !entries.known[id]) entries.known[id] = 1, todo.push_back(id);
  parallel_for(todo.size(), kParallelNodes, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i)
      entries.entry[todo[i]] = keys.entry(state, todo[i]);
  });
  fingerprints.prescan(todo);
  // Judging a fingerprint needs no other decision: every selected node with a recorded one is
  // judged up front on every core; only the ordered propagation below stays sequential.
  Verdicts verdicts(graph.nodes.size());
  ParentFlags parent_flags;
  if (!settings.full_refresh && !settings.placeholder_data) {  // else every node builds
    std::vector<NodeId> judged;
    judged.reserve(todo.size());
    for (NodeId id : todo)
      if (entries.entry[id] && entries.entry[id]->fingerprint && is_decidable(graph.nodes[id]))
        judged.push_back(id);
    fingerprints.prepare(judged);  // lineage too: read-only below
    // The state's side of every parent check of those nodes, flags laid out flat.
    parent_flags.offset.assign(graph.nodes.size(), ParentFlags::kNone);
    size_t flags = 0;
    for (NodeId id : judged) {
      parent_flags.offset[id] = static_cast<uint32_t>(flags);
      flags += lineage.of(id).nodes.size();
    }
    parent_flags.unchanged.assign(flags, 0);
    parallel_for(judged.size(), kParallelNodes, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        const NodeId id = judged[i];
        const StateEntry& entry = *entries.entry[id];
        verdicts[id] = judge_fingerprint(fingerprints, graph, id, entry);
        const std::vector<NodeId>& parents = lineage.of(id).nodes;
        // data() + offset, not &v[offset]: a node without parents may sit at the end.
        uint8_t* out = parent_flags.unchanged.data() + parent_flags.offset[id];
        for (size_t j = 0; j < parents.size(); ++j) {
          const NodeId p = parents[j];
          // Entries of unselected parents are looked up here without being memoised (the
          // memo is the sequential pass's).
          const StateEntry* pe = entries.known[p] ? entries.entry[p] : keys.entry(state, p);
          out[j] = !recorded_parent_changed(graph, keys, id, p, entry, pe);
        }
      }
    });
  }
  Plan plan = Decider(graph, lineage, fingerprints, observed, state, keys, now, settings,
                      verdicts, entries, parent_flags, other)
                  .run(selected);
  // dbt drops a selected unit test whose model is not selected: a unit test that must run
  // takes its reused model along (decided again, so the model's children follow the rules).
  std::unordered_map<NodeId, NodeId> forced;
  for (const NodeDecision& d : plan.decisions) {
    const Node& n = graph.nodes[d.node];
    if (n.kind != NodeKind::UnitTest || d.action != Action::Build) continue;
    for (NodeId p : n.parents) {
      const NodeDecision* pd = plan.find(p);
      if (pd && pd->action != Action::Build) forced.emplace(p, d.node);
    }
  }
  if (forced.empty()) return plan;
  Decider again(graph, lineage, fingerprints, observed, state, keys, now, settings, verdicts,
                entries, parent_flags, other);
  again.forced = std::move(forced);
  return again.run(selected);
}

}  // namespace orc
