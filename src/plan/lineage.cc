#include "plan/lineage.h"

#include <algorithm>

#include "core/sha256.h"

namespace orc {
namespace {

void add_unique(std::vector<NodeId>& v, NodeId id) {
  if (std::find(v.begin(), v.end(), id) == v.end()) v.push_back(id);
}

}  // namespace

Lineage::Lineage(const Graph& graph)
    : graph_(graph),
      inputs_(graph.nodes.size()),
      has_inputs_(graph.nodes.size(), false),
      expansions_(graph.nodes.size()),
      view_expansions_(graph.nodes.size()) {}

const Lineage::Expansion& Lineage::expand_view(NodeId id) {
  Expansion& e = view_expansions_[id];
  if (e.done) return e;
  e.done = true;  // set first: a (forbidden) cycle terminates
  std::vector<NodeId> ephemerals;  // folded into the view's own checksum, not its children's
  for (NodeId p : graph_.nodes[id].parents) fold_parent(p, e.sources, e.nodes, ephemerals);
  return e;
}

const Lineage::Expansion& Lineage::expand_ephemeral(NodeId id) {
  Expansion& e = expansions_[id];
  if (e.done) return e;
  e.done = true;  // set first: a (forbidden) cycle terminates instead of recursing forever
  e.ephemerals.push_back(id);
  for (NodeId p : graph_.nodes[id].parents) fold_parent(p, e.sources, e.nodes, e.ephemerals);
  return e;
}

void Lineage::fold_parent(NodeId p, std::vector<NodeId>& sources, std::vector<NodeId>& nodes,
                          std::vector<NodeId>& ephemerals) {
  const Node& parent = graph_.nodes[p];
  if (parent.kind == NodeKind::Source) {
    add_unique(sources, p);
  } else if (parent.is_ephemeral()) {
    const Expansion& up = expand_ephemeral(p);
    for (NodeId s : up.sources) add_unique(sources, s);
    for (NodeId n : up.nodes) add_unique(nodes, n);
    for (NodeId x : up.ephemerals) add_unique(ephemerals, x);
  } else {
    add_unique(nodes, p);
    if (parent.kind == NodeKind::Model && parent.materialized == "view") {
      const Expansion& up = expand_view(p);
      for (NodeId s : up.sources) add_unique(sources, s);
      for (NodeId n : up.nodes) add_unique(nodes, n);
    }
  }
}

const EffectiveInputs& Lineage::of(NodeId id) {
  if (has_inputs_[id]) return inputs_[id];
  EffectiveInputs& in = inputs_[id];
  std::vector<NodeId> ephemerals;
  for (NodeId p : graph_.nodes[id].parents) fold_parent(p, in.sources, in.nodes, ephemerals);
  in.checksum = graph_.nodes[id].checksum;
  if (!ephemerals.empty()) {
    // Order-independent: sort the ephemeral ancestors by unique_id before hashing.
    std::sort(ephemerals.begin(), ephemerals.end(), [&](NodeId a, NodeId b) {
      return graph_.nodes[a].unique_id < graph_.nodes[b].unique_id;
    });
    std::string material = in.checksum;
    for (NodeId x : ephemerals) {
      material += '\n';
      material += graph_.nodes[x].unique_id;
      material += '=';
      material += graph_.nodes[x].checksum;
    }
    in.checksum = "ephemeral-folded:" + sha256_hex(material);
  }
  in.ephemerals = std::move(ephemerals);
  has_inputs_[id] = true;
  return in;
}

}  // namespace orc
