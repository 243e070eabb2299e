#pragma once
// One run's view of the state, and the engine assembled once (docs/design.md, "The session"):
// the key policy, the entries the run sees, lineage and fingerprints, the decision, and the
// record of a run's results and savings as one change to the stored state. The live run,
// `orc plan`, `orc dbt orchestra plan` and `orc state prune` build one and only gather inputs
// and do I/O around it. Pure: no I/O, no clock.
#include <optional>
#include <string>
#include <vector>

#include "plan/decide.h"
#include "plan/fingerprint.h"
#include "plan/lineage.h"
#include "plan/observations.h"
#include "plan/savings.h"
#include "plan/state_keys.h"
#include "plan/state_update.h"
#include "plan/target_entries.h"
#include "state/state.h"
#include "state/state_change.h"

namespace orc {

/// The configuration a session needs ([tool.orchestra_dbt] and the dbt arguments).
struct SessionSettings {
  std::optional<std::string> integration_account_id;  ///< keys scoped with local_run false
  bool local_run = true;
  DecideSettings decide;
  /// --reuse-from: the target whose entries may be cloned (docs/design.md, "Reusing another
  /// target's builds"); ignored with account-scoped keys.
  std::optional<std::string> reuse_from;
  /// The run's dbt target (target.name), recorded in every entry; "" when unknown.
  std::string target_name;
};

/// One run over one graph and one stored state. The graph and the stored state must outlive
/// the session, the graph unchanged (its nodes' checksums may be set before the session is
/// built). With account-scoped keys the session keeps a filtered copy of the stored entries;
/// otherwise it reads the stored document itself (no copy of a 100k-entry state).
class Session {
 public:
  Session(const Graph& graph, State& stored, const SessionSettings& settings,
          FingerprintContext context);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const Graph& graph() const { return graph_; }
  const StateKeys& keys() const { return keys_; }
  /// The entries this run sees (StateKeys::filter of the stored state).
  const State& state() const { return *visible_; }
  /// The entries of --reuse-from's target, or null (not asked, or keys are scoped).
  const TargetEntries* reuse_from() const { return other_ ? &*other_ : nullptr; }
  Lineage& lineage() { return lineage_; }
  Fingerprinter& fingerprints() { return fingerprints_; }

  /// Decides the decidable nodes of `selected` from `observed` at `now` (decide()).
  Plan decide(const std::vector<NodeId>& selected, const Observations& observed, Micros now);

  /// What reusing `plan`'s reused nodes saved (reuse_savings; threads unset).
  RunSavings savings(const Plan& plan) const;

  /// The change that records a finished build: the entries of the nodes of `results` that
  /// succeeded (entries_for_results, with what `observed` held, less the sources `plan`
  /// rebuilt, whose pre-build measurement is not what their readers read) and, when given,
  /// the run's savings added to the totals.
  StateChange record(const Plan& plan, const std::vector<NodeResult>& results,
                     Observations observed, const std::string& fallback_time,
                     const std::optional<RunSavings>& savings);

  /// The change after an --empty/--sample build: the entries of every relation in `results`
  /// removed (entries_of_results): they hold placeholder data.
  StateChange drop_placeholders(const std::vector<NodeResult>& results) const;

  /// The change that adds one run's savings to the totals, and nothing else.
  static StateChange savings_only(const RunSavings& run);

  /// Gives every entry the run sees that has no fingerprint, and whose checksum is the
  /// node's, the node's current fingerprint (`orc dbt orchestra plan --adopt-unfingerprinted`:
  /// benchmarks on the reference's state files). Unscoped keys change the stored document.
  void adopt_unfingerprinted();

 private:
  const Graph& graph_;
  const SessionSettings settings_;
  const StateKeys keys_;
  std::optional<State> filtered_;  ///< the account's entries, when keys are scoped
  State* visible_;                 ///< filtered_ or the stored document
  Lineage lineage_;
  Fingerprinter fingerprints_;
  std::optional<TargetEntries> other_;
};

}  // namespace orc
