#pragma once
// What the warehouse holds, as the warehouse probe listed it schema by schema: the input of
// the "relation exists with the kind it was built as" rule.
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "plan/graph.h"

namespace orc {

/// Relations by (database, schema, identifier), compared case-insensitively.
struct RelationCatalog {
  bool enabled = false;  ///< verify_relations_exist is on (else every lookup is skipped)
  std::unordered_set<std::string> listed_schemas;      ///< schema_key() of each listed schema
  std::unordered_map<std::string, std::string> kinds;  ///< relation key -> kind as listed

  /// Key of a schema (lower-cased parts).
  static std::string schema_key(std::string_view database, std::string_view schema);
  /// Records a listed relation; `kind` is normalised (lower case; "base table" -> "table").
  void add(std::string_view database, std::string_view schema, std::string_view identifier,
           std::string_view kind);
  /// The node's relation as listed: nullopt when its schema was not listed (cannot tell),
  /// "" when missing, else its kind ("unknown" when the listing gave none).
  std::optional<std::string> lookup(const Node& node) const;
  /// The same for the relation `database`.`schema`.`identifier`.
  std::optional<std::string> lookup(std::string_view database, std::string_view schema,
                                    std::string_view identifier) const;
};

}  // namespace orc
