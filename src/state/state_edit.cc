#include "state/state_edit.h"

#include <algorithm>

#include "core/node_pattern.h"

namespace orc {

KeyMatch match_keys(const State& state, const std::vector<std::string>& patterns) {
  KeyMatch out;
  for (const auto& p : patterns) {
    bool any = false;
    for (const auto& [key, entry] : state.entries) {
      if (!matches_node_pattern(p, key)) continue;
      any = true;
      out.keys.push_back(key);
    }
    if (!any) out.unmatched.push_back(p);
  }
  std::sort(out.keys.begin(), out.keys.end());
  out.keys.erase(std::unique(out.keys.begin(), out.keys.end()), out.keys.end());
  return out;
}

std::vector<std::string> stale_keys(const State& state,
                                    const std::function<bool(std::string_view)>& in_manifest,
                                    const std::string& account_prefix) {
  std::vector<std::string> out;
  for (const auto& [key, entry] : state.entries) {
    std::string_view id = strip_relation_suffix(key);
    if (!account_prefix.empty() && id.substr(0, account_prefix.size()) == account_prefix)
      id.remove_prefix(account_prefix.size());
    if (!in_manifest(id)) out.push_back(key);
  }
  std::sort(out.begin(), out.end());
  return out;
}

ImportDiff import_diff(const State& stored, const State& incoming) {
  ImportDiff d;
  State probe;
  for (const auto& [key, entry] : incoming.entries) {
    auto it = stored.entries.find(key);
    if (it == stored.entries.end()) {
      d.added.push_back(key);
      continue;
    }
    // Ask merge_state itself, so the preview can never disagree with the write.
    probe.entries.clear();
    probe.entries.emplace(key, it->second);
    State one;
    one.entries.emplace(key, entry);
    (merge_state(probe, one) ? d.replaced : d.kept).push_back(key);
  }
  for (auto* v : {&d.added, &d.replaced, &d.kept}) std::sort(v->begin(), v->end());
  return d;
}

}  // namespace orc
