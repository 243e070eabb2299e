#include "plan/relation_catalog.h"

#include <cctype>

namespace orc {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string relation_key(std::string_view db, std::string_view schema, std::string_view id) {
  return RelationCatalog::schema_key(db, schema) + '\x1f' + lower(id);
}

}  // namespace

std::string RelationCatalog::schema_key(std::string_view database, std::string_view schema) {
  return lower(database) + '\x1f' + lower(schema);
}

void RelationCatalog::add(std::string_view database, std::string_view schema,
                          std::string_view identifier, std::string_view kind) {
  std::string k = lower(kind);
  if (k == "base table") k = "table";
  if (k.empty() || k == "none") k = "unknown";
  kinds[relation_key(database, schema, identifier)] = k;
}

std::optional<std::string> RelationCatalog::lookup(const Node& n) const {
  return lookup(n.database, n.schema, n.alias);
}

std::optional<std::string> RelationCatalog::lookup(std::string_view database,
                                                   std::string_view schema,
                                                   std::string_view identifier) const {
  if (!listed_schemas.count(schema_key(database, schema))) return std::nullopt;
  auto it = kinds.find(relation_key(database, schema, identifier));
  return it == kinds.end() ? std::string() : it->second;
}

}  // namespace orc
