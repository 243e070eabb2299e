#pragma once
// The state key policy, in one place: which key a node's entry has, which stored entries a
// run sees, which keys a configuration owns and which node a stored key belongs to
// (dbt-orchestra 1.5's asset_external_id.py and state_filters.py; DESIGN.md section 1).
// Everything that reads, writes, explains or prunes state entries asks it. Pure: no I/O.
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "plan/graph.h"
#include "state/state.h"

namespace orc {

/// The key policy of one configuration (integration_account_id, local_run) over one graph.
/// With an account id and local_run false, keys are account-scoped: `<account>.<relation
/// name>` (`<account>.<unique_id>` for a node without a relation name), and a run sees only
/// the entries whose key starts with `<account>.`. Otherwise (no account id, an empty one, or
/// local_run true, the default) a key is the node's bare unique_id and a run sees every
/// entry. Writes merge, so other accounts' entries are never removed by a run.
class StateKeys {
 public:
  /// The policy for `account_id` and `local_run` over `graph`, which must outlive this object
  /// with its nodes unchanged in number and identity.
  StateKeys(const Graph& graph, const std::optional<std::string>& account_id, bool local_run);

  /// True when keys are account-scoped (and the loaded state is filtered).
  bool scoped() const { return !prefix_.empty(); }

  /// The state key of node `id`.
  const std::string& key(NodeId id) const {
    return keys_.empty() ? graph_.nodes[id].unique_id : keys_[id];
  }

  /// The entry that describes node `id` in `state`: the one under its key when built as its
  /// current relation, else its `key@relation` entry, else the one under its key (find_entry).
  const StateEntry* entry(const State& state, NodeId id) const;

  /// Whether a run sees the stored entry `key`: with scoped keys only `<account>.` keys, else
  /// every key.
  bool sees(std::string_view key) const;

  /// Drops from `state` the entries a run does not see (nothing when keys are not scoped).
  void filter(State& state) const;

  /// Whether `key` is one of this configuration's keys, the only ones `stale` may name: with
  /// scoped keys, `<account>.` keys; else keys that read as dbt unique_ids (a resource type
  /// first), so that keys of any account are never this configuration's.
  bool owns(std::string_view key) const;

  /// The node a stored key names, whatever the configuration: a bare unique_id, and with an
  /// account id `<account>.<unique_id>` and `<account>.<relation name>`; each also with a
  /// per-relation `@relation` suffix. nullopt when no node of the graph has that key.
  std::optional<NodeId> node_of(std::string_view key) const;

  /// The keys of `state` that `orc state prune` removes, sorted: the owned keys of no node of
  /// the graph. A scoped key whose relation is no node's current relation is kept when its
  /// identifier (the relation name's last part) is a node's: another target's entry.
  std::vector<std::string> stale(const State& state) const;

 private:
  const Graph& graph_;
  std::string account_prefix_;    ///< "<account>." when an account id is set, else empty
  std::string prefix_;            ///< account_prefix_ when keys are scoped, else empty
  std::vector<std::string> keys_;  ///< scoped keys by NodeId; empty when keys are unique_ids
  /// Relation name -> node (nodes that can have entries), when an account id is set.
  std::unordered_map<std::string_view, NodeId> by_relation_;
  /// The last part of those relation names, when keys are scoped.
  std::unordered_set<std::string_view> identifiers_;
};

}  // namespace orc
