#include "plan/graph.h"

#include <algorithm>
#include <cctype>

namespace orc {

Micros BuildAfter::window() const {
  int64_t unit = 0;
  if (period == "minute") unit = 60;
  else if (period == "hour") unit = 3600;
  else if (period == "day") unit = 86400;
  return count * unit * 1000000;
}

NodeKind kind_from_resource_type(std::string_view t) {
  if (t == "model") return NodeKind::Model;
  if (t == "seed") return NodeKind::Seed;
  if (t == "snapshot") return NodeKind::Snapshot;
  if (t == "test") return NodeKind::Test;
  if (t == "unit_test") return NodeKind::UnitTest;
  if (t == "source") return NodeKind::Source;
  return NodeKind::Other;
}

NodeId Graph::add(Node node) {
  NodeId id = static_cast<NodeId>(nodes.size());
  index.emplace(node.unique_id, id);
  nodes.push_back(std::move(node));
  return id;
}

void Graph::link() {
  for (NodeId id = 0; id < nodes.size(); ++id) {
    Node& n = nodes[id];
    n.parents.clear();
    n.parents.reserve(n.depends_on.size());
    for (const auto& dep : n.depends_on) {
      auto it = index.find(dep);
      if (it == index.end() || it->second == id) continue;
      bool dup = false;
      for (NodeId p : n.parents) dup |= (p == it->second);
      if (!dup) n.parents.push_back(it->second);
    }
  }
  for (auto& n : nodes) n.children.clear();
  for (NodeId id = 0; id < nodes.size(); ++id)
    for (NodeId p : nodes[id].parents) nodes[p].children.push_back(id);
  link_producers();
}

namespace {

/// A relation's identity as the warehouse compares it (unquoted, case-folded); "" when the
/// node does not say where its relation is.
std::string relation_key(const Node& n) {
  if (n.schema.empty() || n.alias.empty()) return {};
  std::string key = n.database + "." + n.schema + "." + n.alias;
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

}  // namespace

void Graph::link_producers() {
  // Sources are few: index them, then look each built relation up.
  std::unordered_map<std::string, std::vector<NodeId>> sources;
  for (NodeId id = 0; id < nodes.size(); ++id) {
    Node& n = nodes[id];
    n.producer = kNoNode;
    n.read_as_source.clear();
    if (n.kind == NodeKind::Source)
      if (std::string key = relation_key(n); !key.empty()) sources[std::move(key)].push_back(id);
  }
  if (sources.empty()) return;
  for (NodeId id = 0; id < nodes.size(); ++id) {
    Node& p = nodes[id];
    const bool builds = p.kind == NodeKind::Seed || p.kind == NodeKind::Snapshot ||
                        (p.kind == NodeKind::Model && !p.is_ephemeral());
    if (!builds) continue;
    auto it = sources.find(relation_key(p));
    if (it == sources.end()) continue;
    for (NodeId s : it->second) {
      // A model that reads the source it writes (a self-referencing load) would make a cycle.
      if (nodes[s].producer != kNoNode ||
          std::find(p.parents.begin(), p.parents.end(), s) != p.parents.end())
        continue;
      nodes[s].producer = id;
      p.read_as_source.push_back(s);
    }
  }
}

std::optional<NodeId> Graph::find(const std::string& unique_id) const {
  auto it = index.find(unique_id);
  if (it == index.end()) return std::nullopt;
  return it->second;
}

std::vector<NodeId> Graph::topological_order() const {
  std::vector<uint32_t> pending(nodes.size());
  std::vector<NodeId> order;
  order.reserve(nodes.size());
  for (NodeId id = 0; id < nodes.size(); ++id) {
    pending[id] = static_cast<uint32_t>(nodes[id].parents.size()) +
                  (nodes[id].producer != kNoNode ? 1 : 0);
    if (pending[id] == 0) order.push_back(id);
  }
  for (size_t i = 0; i < order.size(); ++i) {
    for (NodeId c : nodes[order[i]].children)
      if (--pending[c] == 0) order.push_back(c);
    for (NodeId s : nodes[order[i]].read_as_source)
      if (--pending[s] == 0) order.push_back(s);
  }
  if (order.size() != nodes.size())
    for (NodeId id = 0; id < nodes.size(); ++id)
      if (pending[id] > 0) order.push_back(id);
  return order;
}

}  // namespace orc
