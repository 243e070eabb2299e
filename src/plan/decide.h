#pragma once
// The decision: for each selected node, BUILD or REUSE, with the reason and the inputs that
// decided it. Pure: no I/O, no clock (the caller passes `now`).
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "plan/fingerprint.h"
#include "plan/fingerprint_diff.h"
#include "plan/graph.h"
#include "plan/lineage.h"
#include "plan/observations.h"
#include "plan/reason.h"
#include "plan/relation_catalog.h"
#include "plan/state_keys.h"
#include "plan/target_entries.h"
#include "plan/volatility_mode.h"
#include "state/state.h"

namespace orc {

struct DecideSettings {
  bool full_refresh = false;
  /// --empty / --sample: dbt builds every selected node with placeholder data; nothing is
  /// reused (design.md, "The run").
  bool placeholder_data = false;
  bool seed_state_orchestration = false;
  /// Which clock and randomness reads make a node volatile ([tool.orchestra_dbt] volatility).
  VolatilityMode volatility = VolatilityMode::Filters;
};

/// Build: dbt builds it. Reuse: its relation stays. Clone: under --reuse-from, its relation
/// becomes a clone of the other target's (`dbt clone`; a test takes over the other target's
/// passing result), which is the relation a build would give (docs/design.md, "Reusing
/// another target's builds").
enum class Action : uint8_t { Build, Reuse, Clone };

/// The decision's word for an action: "build", "reuse" or "clone".
const char* action_name(Action action);

/// One source input as the decision saw it.
struct SourceInput {
  NodeId source;
  std::optional<std::string> recorded;  ///< value in the node's state entry
  std::optional<std::string> current;   ///< freshness now (nullopt = unknown)
  bool is_new = false;
  /// Which method decided: loaded_at_field, loaded_at_query, fingerprint, "unknown: <why>".
  std::string method;
  /// The change marker beside max_loaded_at, recorded and now (nullopt = unknown, or the
  /// source opted out); compared only when both are known.
  std::optional<std::string> recorded_marker, current_marker;
};

/// One parent (through ephemerals) as the upstream rule saw it.
struct ParentInput {
  NodeId parent;
  /// Why it counts as new data (parent_built, parent_rebuilt with old -> new, ...); none when
  /// it is unchanged since this node's build.
  std::optional<Reason> changed;
};

struct NodeDecision {
  NodeId node;
  Action action = Action::Build;
  Reason reason;
  bool has_entry = false;
  std::string checksum_old;
  std::string checksum_new;
  std::string last_updated;  ///< from the state entry
  std::vector<SourceInput> sources;
  std::vector<ParentInput> parents;                  ///< filled when the upstream rule ran
  std::vector<ComponentChange> fingerprint_changes;  ///< every differing component, if any
  /// The warehouse check: "ok", "not checked", or the problem's reason code.
  std::string relation_check = "not checked";
  /// Names of the vars and env vars its fingerprint watches (a change to one builds it).
  std::vector<std::string> watched_vars, watched_env_vars;
  size_t watched_macros = 0;  ///< number of macros in its fingerprint
  std::optional<BuildAfter> build_after;
  bool build_after_inherited = false;
  /// Clone: the other target's entry that is cloned (its relation in fingerprint.relation);
  /// also set on a seed built from the same file as that entry (`seed_loaded_like_target`),
  /// whose relation then holds that entry's rows too.
  const StateEntry* clone_of = nullptr;
};

struct Plan {
  std::vector<NodeDecision> decisions;  ///< one per decided node, parents before children
  std::vector<int32_t> decision_index;  ///< NodeId -> index into `decisions`, or -1
  size_t build_count = 0;
  size_t reuse_count = 0;
  size_t clone_count = 0;
  /// Sources whose relation this run rebuilds with possibly other rows (their producer is
  /// built): what was measured of them before dbt ran must not be recorded as what their
  /// readers read.
  std::vector<NodeId> sources_rebuilt;

  const NodeDecision* find(NodeId id) const {
    int32_t i = id < decision_index.size() ? decision_index[id] : -1;
    return i < 0 ? nullptr : &decisions[static_cast<size_t>(i)];
  }
};

/// True for the node kinds a dbt build/run/test executes and orc decides on: models other than
/// ephemeral, seeds, snapshots, tests, unit tests, and other runnable types (always built).
bool is_decidable(const Node& node);

/// Decides every decidable node of `selected` (any order; duplicates ignored). Each node's
/// entry in `state` is the one `keys` (built on `graph`) names.
/// With `other` (--reuse-from), a node that would be built is cloned instead where the other
/// target's entry of it allows (docs/design.md, "Reusing another target's builds").
Plan decide(const Graph& graph, Lineage& lineage, Fingerprinter& fingerprints,
            const std::vector<NodeId>& selected, const Observations& observed,
            const State& state, const StateKeys& keys, Micros now,
            const DecideSettings& settings, const TargetEntries* other = nullptr);

/// Each node's build_after: its own, else the smallest of its children's when every
/// (non-test) child has one (of equal windows, one with updates_on `any`). Indexed by NodeId;
/// the bool says "inherited".
std::vector<std::pair<std::optional<BuildAfter>, bool>> effective_build_after(const Graph& graph);

}  // namespace orc
