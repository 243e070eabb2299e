#pragma once
// Where a var's value comes from for a node of a given package, resolved with dbt's precedence
// (docs/design.md, "Vars"): `--vars`, the root project's vars scoped to the package, the root
// project's global vars, the package's own dbt_project.yml (scoped, then global). Pure: the
// edges read the files (dbt/project_vars.h) and hand their `vars:` blocks in as canonical text.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace orc {

/// One dbt project's `vars:` block, each value as canonical text (equal values, equal text;
/// comments, key order and layout do not count).
struct VarBlock {
  std::map<std::string, std::string> values;  ///< every top-level key
  /// Top-level keys whose value is a mapping, with that mapping's entries: dbt reads the one
  /// named like a node's package as vars scoped to that package.
  std::map<std::string, std::map<std::string, std::string>> scoped;
};

/// Every var definition a run can see, with what dbt answered for the root project.
struct VarScopes {
  std::string root_project;
  VarBlock root;                                       ///< the root dbt_project.yml
  std::unordered_map<std::string, VarBlock> packages;  ///< installed packages, by package name
  std::map<std::string, std::string> cli;              ///< --vars, canonical text per key
  /// Why the project files or --vars could not be read ("" = they were): package vars and
  /// computed var names are then unknown. A VarScopes nobody filled says so.
  std::string problem = "the project's vars were not read";
};

/// An environment lookup (nullopt = unset).
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

/// A var as resolved for one node: the hash its fingerprint records, and where it came from.
struct ResolvedVar {
  std::string hash;    ///< kUnknownValue (fingerprint.h) when orc cannot know it
  std::string origin;  ///< e.g. "package jira's dbt_project.yml", "--vars", "undefined"
};

/// Var `name` for a node of `package` that is not the root project, with dbt's precedence.
/// Every layer's value (`--vars` included) hashes its canonical text, so the same value set in
/// another layer (`--vars x: 10` over a package default of 10) hashes the same. A value that
/// is a Jinja string reading env vars hashes their values too (`env` lookup).
ResolvedVar resolve_package_var(const VarScopes& scopes, const std::string& package,
                                const std::string& name, const EnvLookup& env);

/// A hash of every var value a node of `package` can read (what `var(<computed name>)` may
/// return): the merged definitions with dbt's precedence. kUnknownValue when scopes.problem.
std::string visible_vars_hash(const VarScopes& scopes, const std::string& package,
                              const EnvLookup& env);

}  // namespace orc
