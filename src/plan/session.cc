#include "plan/session.h"

namespace orc {

Session::Session(const Graph& graph, State& stored, const SessionSettings& settings,
                 FingerprintContext context)
    : graph_(graph),
      settings_(settings),
      keys_(graph, settings.integration_account_id, settings.local_run),
      visible_(&stored),
      lineage_(graph),
      fingerprints_(graph, lineage_, std::move(context)) {
  if (keys_.scoped()) {
    filtered_ = stored;
    keys_.filter(*filtered_);
    visible_ = &*filtered_;
  }
  // Another target's entries are found by unique_id keys only (docs/design.md).
  if (settings_.reuse_from && !keys_.scoped()) other_.emplace(*visible_, *settings_.reuse_from);
}

Plan Session::decide(const std::vector<NodeId>& selected, const Observations& observed,
                     Micros now) {
  return orc::decide(graph_, lineage_, fingerprints_, selected, observed, *visible_, keys_, now,
                     settings_.decide, other_ ? &*other_ : nullptr);
}

RunSavings Session::savings(const Plan& plan) const {
  return reuse_savings(graph_, plan, *visible_, keys_);
}

StateChange Session::record(const Plan& plan, const std::vector<NodeResult>& results,
                            Observations observed, const std::string& fallback_time,
                            const std::optional<RunSavings>& savings) {
  // What was measured of a source before its relation was rebuilt is not what its readers
  // read: not recorded, so the next run measures it again (design.md).
  for (NodeId s : plan.sources_rebuilt) observed.forget_source(graph_.nodes[s].unique_id);
  // A cloned test ran nowhere: it takes over the other target's passing result.
  std::vector<NodeResult> with_tests;
  const std::vector<NodeResult>* all = &results;
  if (plan.clone_count > 0) {
    with_tests = results;
    for (const NodeDecision& d : plan.decisions)
      if (d.action == Action::Clone && graph_.nodes[d.node].is_test())
        with_tests.push_back({graph_.nodes[d.node].unique_id, "pass", fallback_time, 0.0});
    all = &with_tests;
  }
  StateChange change;
  change.merged = entries_for_results(graph_, lineage_, fingerprints_, *all, observed,
                                      *visible_, keys_, fallback_time, settings_.target_name,
                                      &plan);
  if (savings) change.savings = savings_totals(*savings);
  return change;
}

StateChange Session::drop_placeholders(const std::vector<NodeResult>& results) const {
  StateChange change;
  change.removed = entries_of_results(graph_, results, *visible_, keys_);
  return change;
}

StateChange Session::savings_only(const RunSavings& run) {
  StateChange change;
  change.savings = savings_totals(run);
  return change;
}

void Session::adopt_unfingerprinted() {
  for (NodeId id = 0; id < graph_.nodes.size(); ++id) {
    if (!is_decidable(graph_.nodes[id])) continue;
    auto it = visible_->entries.find(keys_.key(id));
    if (it == visible_->entries.end() || it->second.fingerprint) continue;
    if (it->second.checksum != lineage_.of(id).checksum) continue;
    it->second.fingerprint = fingerprints_.of(id, nullptr);
  }
}

}  // namespace orc
