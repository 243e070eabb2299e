#pragma once
// The dbt project as a DAG: only what the decision needs, read from manifest.json.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/timestamp.h"

namespace orc {

using NodeId = uint32_t;
/// No node (e.g. a source without a producer).
inline constexpr NodeId kNoNode = UINT32_MAX;

enum class NodeKind : uint8_t { Model, Seed, Snapshot, Test, UnitTest, Source, Other };

/// dbt's `config.freshness.build_after`.
struct BuildAfter {
  int64_t count = 0;
  std::string period;  ///< minute | hour | day
  bool updates_on_all = false;
  /// The window length; 0 for an unknown period.
  Micros window() const;
};

/// One manifest entry (node, source or unit test).
struct Node {
  std::string unique_id;
  NodeKind kind = NodeKind::Other;
  std::string resource_type;  ///< as dbt names it
  std::string package_name;
  std::string materialized;
  std::string checksum;       ///< manifest checksum (seeds: replaced by the file's SHA-256)
  std::string relation_name;
  std::string database;       ///< relation identity parts as dbt resolved them
  std::string schema;
  std::string alias;          ///< identifier (models, seeds, snapshots: alias; sources: identifier)
  std::string language;       ///< sql | python
  std::string raw_code;       ///< the node's code as written (Jinja unrendered)
  std::vector<std::string> macro_deps;  ///< depends_on.macros
  /// Result-affecting config, one (interned key id, value hash) per key, sorted by key id;
  /// null and empty values are left out (see fingerprint.h for the excluded keys).
  std::vector<std::pair<uint32_t, uint64_t>> config;
  std::string hooks_text;     ///< raw JSON of pre-hook/post-hook when set (they may read vars)
  /// config `volatile: true|false`: the user's word on whether the node reads the clock or
  /// randomness (overrides orc's scan of its code).
  std::optional<bool> volatile_config;
  std::string original_file_path;
  std::string root_path;      ///< seeds: directory the file path is relative to
  std::vector<std::string> depends_on;  ///< parent unique_ids as written in the manifest
  std::vector<NodeId> parents;          ///< resolved depends_on (unknown ids dropped)
  std::vector<NodeId> children;
  /// Sources only: the seed, snapshot or model whose relation this source reads (a seed
  /// loaded as a raw table), else kNoNode. Not an edge dbt knows; the decision orders the
  /// producer first (topological_order) and sees the source change when it is built.
  NodeId producer = kNoNode;
  std::vector<NodeId> read_as_source;  ///< the sources whose producer this node is
  std::optional<BuildAfter> build_after;
  // Sources only:
  std::string source_name;
  std::string name;
  std::string loaded_at_field;
  std::string loaded_at_query;
  std::string freshness_filter;
  /// `meta: {orc: {change_marker: true|false}}` of the source table (else of its source):
  /// false turns its change marker off (docs/design.md, "Late-arriving rows"). Unset: on.
  std::optional<bool> change_marker;

  bool is_ephemeral() const { return kind == NodeKind::Model && materialized == "ephemeral"; }
  bool is_test() const { return kind == NodeKind::Test || kind == NodeKind::UnitTest; }
  bool has_loaded_at() const { return !loaded_at_field.empty() || !loaded_at_query.empty(); }
  /// Whether a source with loaded_at_* is judged by a change marker beside max(loaded_at).
  bool wants_change_marker() const { return change_marker.value_or(true); }
};

/// One macro of the manifest: what its users' fingerprints need.
struct Macro {
  std::string unique_id;
  std::string name;
  std::string package_name;
  std::string sql;                      ///< macro_sql
  std::vector<std::string> depends_on;  ///< depends_on.macros
  std::string original_file_path;       ///< its file, relative to its package's root
};

/// All nodes, with an index by unique_id and resolved edges.
struct Graph {
  std::vector<Node> nodes;
  std::unordered_map<std::string, NodeId> index;
  std::string root_project;  ///< the project's own package name
  std::string adapter_type;  ///< metadata.adapter_type
  std::string dbt_version;   ///< metadata.dbt_version: the dbt that wrote the manifest
  /// The enabled exposures' unique_ids. Not nodes of the graph: nothing is decided for them
  /// (a `dbt build` records each as a no-op).
  std::vector<std::string> exposures;
  std::vector<Macro> macros;
  std::unordered_map<std::string, uint32_t> macro_index;
  std::vector<std::string> config_keys;  ///< interned config key names (Node::config ids)
  /// selectors.yml has a `default: true` selector, which dbt applies when no selection is given.
  bool has_default_selector = false;

  /// Adds a node (edges are resolved later by `link`). Returns its id.
  NodeId add(Node node);
  /// Resolves `depends_on` into parents/children. Call once after all nodes are added.
  void link();
  /// Finds each source's producer (Node::producer); part of link().
  void link_producers();
  std::optional<NodeId> find(const std::string& unique_id) const;
  /// Every node id, parents before children and producers before the sources that read their
  /// relation (Kahn's algorithm; cycles, which dbt forbids, are appended at the end rather
  /// than dropped).
  std::vector<NodeId> topological_order() const;
};

/// Maps dbt's resource_type string to a kind.
NodeKind kind_from_resource_type(std::string_view resource_type);

}  // namespace orc
