#include "plan/state_keys.h"

#include <algorithm>
#include <array>

#include "plan/fingerprint.h"

namespace orc {
namespace {

/// dbt's resource types: the first part of every unique_id.
constexpr std::array<std::string_view, 19> kResourceTypes = {
    "model", "analysis", "test", "snapshot", "operation", "seed", "rpc", "sql_operation",
    "doc", "source", "macro", "exposure", "metric", "group", "saved_query", "semantic_model",
    "unit_test", "fixture", "function"};

/// True when `key` reads as a dbt unique_id: its part before the first '.' is a resource type.
bool reads_as_unique_id(std::string_view key) {
  const size_t dot = key.find('.');
  if (dot == std::string_view::npos) return false;
  return std::find(kResourceTypes.begin(), kResourceTypes.end(), key.substr(0, dot)) !=
         kResourceTypes.end();
}

/// The last part of a relation name, quotes kept: `"db"."s"."t"` -> `"t"`, `db.s.t` -> `t`.
std::string_view last_part(std::string_view relation) {
  if (relation.size() >= 2 && (relation.back() == '"' || relation.back() == '`')) {
    const size_t open = relation.rfind(relation.back(), relation.size() - 2);
    if (open != std::string_view::npos) return relation.substr(open);
  }
  const size_t dot = relation.rfind('.');
  return dot == std::string_view::npos ? relation : relation.substr(dot + 1);
}

}  // namespace

StateKeys::StateKeys(const Graph& graph, const std::optional<std::string>& account_id,
                     bool local_run)
    : graph_(graph) {
  // dbt-orchestra tests the account id for truth: an empty one is no account.
  if (!account_id || account_id->empty()) return;
  account_prefix_ = *account_id + ".";
  for (NodeId id = 0; id < graph.nodes.size(); ++id) {
    const Node& n = graph.nodes[id];
    if (n.kind != NodeKind::Source && !n.relation_name.empty())
      by_relation_.emplace(n.relation_name, id);
  }
  if (local_run) return;
  prefix_ = account_prefix_;
  keys_.reserve(graph.nodes.size());
  for (const Node& n : graph.nodes)
    keys_.push_back(prefix_ + (n.relation_name.empty() ? n.unique_id : n.relation_name));
  for (const auto& [relation, id] : by_relation_) identifiers_.insert(last_part(relation));
}

const StateEntry* StateKeys::entry(const State& state, NodeId id) const {
  return find_entry(state, key(id), relation_identity(graph_.nodes[id]));
}

bool StateKeys::sees(std::string_view key) const { return key.starts_with(prefix_); }

void StateKeys::filter(State& state) const {
  if (!scoped()) return;
  std::erase_if(state.entries, [this](const auto& kv) { return !sees(kv.first); });
}

bool StateKeys::owns(std::string_view key) const {
  return scoped() ? sees(key) : reads_as_unique_id(key);
}

std::optional<NodeId> StateKeys::node_of(std::string_view key) const {
  // The whole key, then the key before each '@' (a relation name may hold one itself).
  for (size_t end = key.size(); end != std::string_view::npos;
       end = end == 0 ? std::string_view::npos : key.rfind('@', end - 1)) {
    const std::string_view k = key.substr(0, end);
    if (auto id = graph_.find(std::string(k))) return id;
    if (account_prefix_.empty() || !k.starts_with(account_prefix_)) continue;
    const std::string_view rest = k.substr(account_prefix_.size());
    if (auto id = graph_.find(std::string(rest))) return id;
    if (auto it = by_relation_.find(rest); it != by_relation_.end()) return it->second;
  }
  return std::nullopt;
}

std::vector<std::string> StateKeys::stale(const State& state) const {
  std::vector<std::string> out;
  for (const auto& [key, entry] : state.entries) {
    if (!owns(key) || node_of(key)) continue;
    if (scoped()) {
      // Another target's relation of a node: same identifier, another database or schema.
      std::string_view rest = std::string_view(key).substr(prefix_.size());
      if (!reads_as_unique_id(rest) && identifiers_.count(last_part(rest))) continue;
    }
    out.push_back(key);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace orc
