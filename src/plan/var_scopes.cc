#include "plan/var_scopes.h"

#include <fmt/format.h>

#include "core/fast_hash.h"
#include "plan/code_normalizer.h"
#include "plan/fingerprint.h"

namespace orc {
namespace {

/// The hash of a var value given as canonical text. A Jinja string is rendered by dbt when a
/// node reads it, so the env vars it reads count too; one with a computed env var name is
/// unknown.
std::string value_hash(const std::string& text, const EnvLookup& env) {
  HashBuilder h;
  h.add("orc-var:").add(text);
  if (text.find("{{") != std::string::npos || text.find("{%") != std::string::npos) {
    CodeReferences refs;
    collect_references(text, refs);
    if (refs.dynamic_env_var) return kUnknownValue;
    for (const std::string& e : refs.env_vars) {
      std::optional<std::string> v = env ? env(e) : std::nullopt;
      h.add(e).add(v ? "set:" + *v : std::string("unset"));
    }
  }
  return h.hex();
}

/// The entry of `name` in `map`, if any.
const std::string* find_in(const std::map<std::string, std::string>& map,
                           const std::string& name) {
  auto it = map.find(name);
  return it == map.end() ? nullptr : &it->second;
}

/// The scoped block of `block` for `package`, if any.
const std::map<std::string, std::string>* scoped_for(const VarBlock& block,
                                                     const std::string& package) {
  auto it = block.scoped.find(package);
  return it == block.scoped.end() ? nullptr : &it->second;
}

}  // namespace

ResolvedVar resolve_package_var(const VarScopes& scopes, const std::string& package,
                                const std::string& name, const EnvLookup& env) {
  if (!scopes.problem.empty()) return {kUnknownValue, scopes.problem};
  // dbt's ModelConfiguredVar: --vars over the root project (scoped to the package, then
  // global) over the package's own project (scoped to itself, then global).
  if (const std::string* v = find_in(scopes.cli, name)) return {value_hash(*v, env), "--vars"};
  if (const auto* scoped = scoped_for(scopes.root, package))
    if (const std::string* v = find_in(*scoped, name))
      return {value_hash(*v, env), fmt::format("vars.{} of the root dbt_project.yml", package)};
  if (const std::string* v = find_in(scopes.root.values, name))
    return {value_hash(*v, env), "the root dbt_project.yml"};
  auto pkg = scopes.packages.find(package);
  if (pkg == scopes.packages.end())
    return {kUnknownValue, fmt::format("package {}'s dbt_project.yml was not found", package)};
  const std::string origin = fmt::format("package {}'s dbt_project.yml", package);
  if (const auto* scoped = scoped_for(pkg->second, package))
    if (const std::string* v = find_in(*scoped, name)) return {value_hash(*v, env), origin};
  if (const std::string* v = find_in(pkg->second.values, name))
    return {value_hash(*v, env), origin};
  return {"undefined", "undefined"};  // dbt falls back to var()'s default, which is code
}

std::string visible_vars_hash(const VarScopes& scopes, const std::string& package,
                              const EnvLookup& env) {
  if (!scopes.problem.empty()) return kUnknownValue;
  // Lowest precedence first; a later layer replaces a name's value.
  std::map<std::string, const std::string*> merged;
  auto layer = [&merged](const std::map<std::string, std::string>* block) {
    if (block)
      for (const auto& [k, v] : *block) merged[k] = &v;
  };
  if (package != scopes.root_project) {
    auto pkg = scopes.packages.find(package);
    if (pkg == scopes.packages.end()) return kUnknownValue;
    layer(&pkg->second.values);
    layer(scoped_for(pkg->second, package));
  }
  layer(&scopes.root.values);
  layer(scoped_for(scopes.root, package));
  layer(&scopes.cli);
  HashBuilder h;
  for (const auto& [k, v] : merged) h.add(k).add(value_hash(*v, env));
  return h.hex();
}

}  // namespace orc
