#pragma once
// Another target's state entries, for `--reuse-from <target>` (docs/design.md, "Reusing another
// target's builds"): which entry holds that target's build of a node, where its relation is,
// and whether a node's code may render differently per target. Pure: no I/O.
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "state/state.h"

namespace orc {

/// The built (not cloned) entries of one target, by the key of their node.
class TargetEntries {
 public:
  /// The entries of `state` whose `orc_target` is `target` and that are not clones, by their
  /// key less any `@relation` suffix; of several for one key, the newest. `state` must outlive
  /// this object unchanged.
  TargetEntries(const State& state, std::string target);

  const std::string& target() const { return target_; }
  /// The target's entry of the node whose state key is `key`, or null.
  const StateEntry* find(const std::string& key) const;
  /// Number of entries found.
  size_t size() const { return by_key_.size(); }
  /// (database, schema) of every entry's relation that splits into three parts, each once and
  /// sorted: the schemas the warehouse probe lists so that the relations can be checked.
  std::vector<std::pair<std::string, std::string>> schemas() const;

 private:
  std::string target_;
  std::unordered_map<std::string_view, const StateEntry*> by_key_;
};

/// The parts of a relation name as dbt renders it: `"db"."schema"."identifier"` with the
/// adapter's quotes (", `, [ ] or none). nullopt unless it has exactly three non-empty parts.
struct RelationParts {
  std::string database, schema, identifier;
};
std::optional<RelationParts> split_relation_name(std::string_view relation_name);

/// Whether Jinja `code` reads the `target` context variable (`target.name`, `target['schema']`,
/// ...), so that it may render differently per target while its fingerprint stays the same.
bool reads_target_variable(std::string_view code);

}  // namespace orc
