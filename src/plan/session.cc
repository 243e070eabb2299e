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
}

Plan Session::decide(const std::vector<NodeId>& selected, const Observations& observed,
                     Micros now) {
  return orc::decide(graph_, lineage_, fingerprints_, selected, observed, *visible_, keys_, now,
                     settings_.decide);
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
  StateChange change;
  change.merged = entries_for_results(graph_, lineage_, fingerprints_, results, observed,
                                      *visible_, keys_, fallback_time);
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
