#pragma once
// What a node really consumes once ephemeral models are folded into it: ephemerals never run
// and never get state, so their sources, parents and SQL count as their children's own. Views
// are live: a reused view still shows its parents' new data, so a view's own upstream counts
// as its children's input too (besides the view itself).
#include <string>
#include <vector>

#include "plan/graph.h"

namespace orc {

/// A node's upstream with ephemerals expanded.
struct EffectiveInputs {
  std::vector<NodeId> sources;  ///< source parents, direct or reached through ephemerals/views
  std::vector<NodeId> nodes;    ///< non-ephemeral, non-source parents (same)
  std::string checksum;         ///< own checksum, or a hash over it and its ephemeral ancestors'
  std::vector<NodeId> ephemerals;  ///< ephemeral ancestors folded in, sorted by unique_id
};

/// Lazily computes and caches effective inputs; linear in the graph over all queries.
class Lineage {
 public:
  explicit Lineage(const Graph& graph);
  const EffectiveInputs& of(NodeId id);

 private:
  struct Expansion {  // an ephemeral's upstream, expanded once
    std::vector<NodeId> sources, nodes;
    std::vector<NodeId> ephemerals;  ///< itself and its ephemeral ancestors
    bool done = false;
  };
  const Expansion& expand_ephemeral(NodeId id);
  /// A view's upstream (sources and nodes, through ephemerals and further views), once.
  const Expansion& expand_view(NodeId id);
  /// Adds parent `p` to the lists: a source or a node as itself, an ephemeral as its upstream.
  void fold_parent(NodeId p, std::vector<NodeId>& sources, std::vector<NodeId>& nodes,
                   std::vector<NodeId>& ephemerals);

  const Graph& graph_;
  std::vector<EffectiveInputs> inputs_;
  std::vector<bool> has_inputs_;
  std::vector<Expansion> expansions_;
  std::vector<Expansion> view_expansions_;
};

}  // namespace orc
