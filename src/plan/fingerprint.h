#pragma once
// A node's fingerprint: hashes of everything that decides its built relation and nothing
// else (docs/design.md, "Fingerprint"). Pure: var values and the environment come in through
// FingerprintContext.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "plan/code_normalizer.h"
#include "plan/graph.h"
#include "plan/lineage.h"
#include "plan/reason.h"
#include "plan/var_scopes.h"
#include "plan/volatility.h"
#include "state/state.h"

namespace orc {

/// False for the config keys that cannot change the relation (documentation, ownership,
/// scheduling: tags, meta, docs, group, access, freshness, ...). The one list of them.
bool config_key_affects_result(std::string_view key);

/// True for dbt's own macros and the adapters' (package `dbt` and `dbt_<adapter>` plugins):
/// they change only with a dbt upgrade and are not fingerprinted.
bool is_builtin_macro_package(std::string_view package);

/// The hash recorded for a var or env var whose value orc cannot know (never equal to itself:
/// see compare_fingerprints).
inline constexpr const char* kUnknownValue = "unknown";

/// What the fingerprint needs from outside the manifest.
struct FingerprintContext {
  /// var name -> hash of its value as dbt resolves it in the root project; absent = unknown.
  std::unordered_map<std::string, std::string> var_values;
  /// The `vars:` blocks of every project and --vars: how a package's nodes (and computed var
  /// names) resolve their vars (var_scopes.h). Empty: those are unknown.
  VarScopes scopes;
  /// Environment lookup (nullopt = unset).
  EnvLookup env;
};

/// The vars, env vars and macros a node reads (itself, its ephemeral ancestors, its macros).
struct NodeReads {
  std::vector<std::string> vars;
  std::vector<std::string> env_vars;
  bool dynamic_var = false;
  bool dynamic_env_var = false;
  bool volatile_code = false;    ///< its code or a macro it calls reads the clock/randomness
  std::vector<uint32_t> macros;  ///< indices into Graph::macros, fingerprinted ones only
};

/// What one node's own text reads, scanned once per node (not per child that inlines it).
struct CodeScan {
  CodeReferences refs;            ///< var()/env_var() names of its raw code and hooks
  bool volatile_code = false;     ///< its raw code reads the clock or randomness (not seeds)
  std::vector<uint32_t> macros;   ///< its macro_deps that are fingerprinted, as Graph::macros
                                  ///< indices (built-in and unknown ones left out)
  std::vector<uint32_t> builtin_macros;  ///< its built-in macro_deps (for what they dispatch to)
};

/// What the decision needs of a node's current fingerprint, computed without building it.
struct FingerprintSummary {
  uint64_t digest = 0;        ///< fingerprint_digest of the fingerprint `of` would build
  bool has_unknown = false;   ///< a var or env var whose value orc cannot know (never equal)
  std::vector<std::string> watched_vars;      ///< its `vars` keys, sorted
  std::vector<std::string> watched_env_vars;  ///< its `env_vars` keys, sorted
  size_t watched_macros = 0;                  ///< its `macros` size
};

/// Computes fingerprints lazily, memoising macro hashes and closures; linear in the graph.
class Fingerprinter {
 public:
  Fingerprinter(const Graph& graph, Lineage& lineage, FingerprintContext context);

  /// What node `id` reads (memoised).
  const NodeReads& reads(NodeId id);
  /// Scans the code of `ids` up front on every core (reads() scans lazily otherwise): the
  /// scans are independent and a large share of deciding a big project. Ids out of range and
  /// duplicates are ignored.
  void prescan(const std::vector<NodeId>& ids);
  /// Computes up front everything `of` and `summary` memoise for `ids` (their lineage and
  /// ephemeral ancestors' scans, what they read, the hashes of the macros they call). After
  /// it, `of` and `summary` for those ids only read this object, so several threads may call
  /// them at once (docs/design.md, "Engine performance"); nothing else may run on the object
  /// meanwhile. Ids out of range are ignored.
  void prepare(const std::vector<NodeId>& ids);
  /// The fingerprint of `id` now. `recorded` (its state entry, may be null) lets an unchanged
  /// dbt checksum reuse the recorded code hash instead of normalising the code again.
  Fingerprint of(NodeId id, const StateEntry* recorded);
  /// The digest and watch lists of `of(id, recorded)`, without building its maps (the
  /// decision's fast path: equal digests mean equal fingerprints).
  FingerprintSummary summary(NodeId id, const StateEntry* recorded);
  /// Why the node's result can change on every run (clock, randomness) under `mode`, or
  /// nullopt: its `volatile` config when set, else its code, ephemerals, macros and (under
  /// `filters`) the views it reads (see VolatilityJudge).
  std::optional<Volatility> volatility(NodeId id, VolatilityMode mode);
  /// volatility(id, mode) has a value.
  bool is_volatile(NodeId id, VolatilityMode mode) { return volatility(id, mode).has_value(); }
  /// The `inputs` component of `id`'s fingerprint with each parent node's relation identity
  /// given by `identity_of` (sources keep their own): what it is in another target, whose
  /// parents are other relations (`--reuse-from`).
  std::string inputs_with(NodeId id, const std::function<std::string(NodeId)>& identity_of);
  /// The var names read by `ids` (for the warehouse probe), sorted and unique.
  std::vector<std::string> vars_read(const std::vector<NodeId>& ids);

 private:
  const std::vector<uint32_t>& closure(uint32_t macro);
  /// Appends the fingerprinted macros that `macro`'s adapter.dispatch() calls may pick: every
  /// project or package macro named `<prefix>__<name>` for a dispatched name (any prefix and
  /// package: the adapter's prefixes and the `dispatch:` search order are not modelled), all
  /// such macros for a computed name. dbt's depends_on lists only the namespace's own
  /// implementations, so a root-project override would otherwise go unseen.
  void dispatch_targets(uint32_t macro, std::vector<uint32_t>& out);
  const std::string& macro_hash(uint32_t macro);
  const CodeReferences& macro_refs(uint32_t macro);
  bool macro_volatile(uint32_t macro);
  std::string code_hash(NodeId id);
  /// Node `id`'s own CodeScan (memoised; prescan() fills them all).
  const CodeScan& scan(NodeId id);
  /// Feeds every component of the node's current fingerprint to `sink` (the one definition
  /// behind `of` and `summary`).
  template <class Sink>
  void emit(NodeId id, const StateEntry* recorded, Sink& sink);

  const Graph& g_;
  Lineage& lineage_;
  FingerprintContext ctx_;
  std::vector<uint32_t> global_;  ///< user overrides of built-in macros, and their closure
  std::unordered_map<std::string, std::vector<uint32_t>> by_name_;  ///< fingerprinted macros
  /// `name` -> fingerprinted macros named `<prefix>__name`; and all of them, in id order.
  std::unordered_map<std::string_view, std::vector<uint32_t>> dispatch_by_name_;
  std::vector<uint32_t> dispatch_all_;
  std::vector<std::vector<uint32_t>> closures_;
  std::vector<uint8_t> closure_state_;  ///< 2 once closures_[m] is computed
  std::vector<std::string> hashes_;
  std::vector<std::optional<CodeReferences>> refs_;
  std::vector<uint8_t> volatile_;  ///< per macro: 0 unknown, 1 no, 2 yes
  std::vector<std::optional<NodeReads>> reads_;
  std::vector<std::optional<CodeScan>> scans_;
  /// Per package (root included): visible_vars_hash, what a computed var name may read.
  std::unordered_map<std::string, std::string> visible_vars_;
  VolatilityJudge volatility_;
};

/// A digest of every component: equal fingerprints have equal digests, different ones differ
/// but for 64-bit hash collisions. Map entries are combined independently of their order.
/// Never stored (the recorded side is recomputed from the state entry).
uint64_t fingerprint_digest(const Fingerprint& fp);

/// The first component in which `now` differs from `recorded`, as a reason (relation, adapter,
/// code, macros, config, inputs, vars, env vars, in that order); nullopt when equal. A var or
/// env var whose value is unknown now always differs.
std::optional<Reason> compare_fingerprints(const Fingerprint& recorded, const Fingerprint& now,
                                           const std::string& node_id);

/// The relation kind a materialization builds (table, view, materialized_view, ...), "" when
/// it builds none or orc cannot tell (custom materializations, tests).
std::string expected_relation_kind(const Node& node);

/// The node's relation identity: relation_name, else "database.schema" (tests), else "".
std::string relation_identity(const Node& node);

}  // namespace orc
