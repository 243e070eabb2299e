#include "plan/fingerprint_diff.h"

#include <set>

namespace orc {
namespace {

void diff_map(const char* component, const FlatStringMap& old,
              const FlatStringMap& now, std::vector<ComponentChange>& out) {
  std::set<std::string> keys;
  for (const auto& [k, v] : old) keys.insert(k);
  for (const auto& [k, v] : now) keys.insert(k);
  for (const auto& k : keys) {
    auto o = old.find(k), n = now.find(k);
    std::string ov = o == old.end() ? "" : o->second, nv = n == now.end() ? "" : n->second;
    if (o == old.end() || n == now.end() || ov != nv) out.push_back({component, k, ov, nv});
  }
}

}  // namespace

std::vector<ComponentChange> fingerprint_changes(const Fingerprint& old, const Fingerprint& now) {
  std::vector<ComponentChange> out;
  auto one = [&](const char* component, const std::string& o, const std::string& n) {
    if (o != n) out.push_back({component, "", o, n});
  };
  one("relation", old.relation, now.relation);
  one("adapter", old.adapter, now.adapter);
  one("code", old.code, now.code);
  diff_map("macros", old.macros, now.macros, out);
  diff_map("config", old.config, now.config, out);
  one("inputs", old.inputs, now.inputs);
  diff_map("vars", old.vars, now.vars, out);
  diff_map("env_vars", old.env_vars, now.env_vars, out);
  one("kind", old.kind, now.kind);
  return out;
}

}  // namespace orc
