#include "state/state_edit.h"

#include <algorithm>

#include "core/node_pattern.h"

namespace orc {

KeyMatch match_keys(const State& state, const std::vector<std::string>& patterns,
                    const std::function<bool(std::string_view)>& eligible) {
  KeyMatch out;
  for (const auto& p : patterns) {
    bool any = false;
    for (const auto& [key, entry] : state.entries) {
      if (eligible && !eligible(key)) continue;
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
