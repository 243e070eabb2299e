#pragma once
// The state model shared by every backend: what orc remembers about each built node.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/flat_string_map.h"
#include "core/timestamp.h"

namespace orc {

/// Hashes of everything that decided a built relation (see docs/design.md, "Fingerprint").
/// Only hashes are stored: var and env var values never reach the state.
struct Fingerprint {
  std::string code;      ///< normalised code of the node and its ephemeral ancestors
  std::string relation;  ///< identity: relation_name, else "database.schema" (tests)
  std::string adapter;   ///< adapter type
  std::string kind;      ///< relation kind it was built as (table, view, ...); "" when none/unknown
  std::string inputs;    ///< relation identities of the sources and parents it reads
  FlatStringMap config;    ///< result-affecting config key -> hash
  FlatStringMap macros;    ///< macro unique_id -> hash (closure)
  FlatStringMap vars;      ///< var name -> hash of its value
  FlatStringMap env_vars;  ///< env var name -> hash of its value

  bool operator==(const Fingerprint&) const = default;
};

/// The JSON text an entry was read from. Writing the state copies it instead of serializing
/// the entry again while the entry still holds what was read (its digest says so), so entries
/// a run leaves alone cost a copy (docs/design.md, "Engine performance").
struct EntryText {
  std::shared_ptr<const void> owner;  ///< keeps the buffer `text` points into alive
  std::string_view text;              ///< the entry's JSON object as read; empty: none
  uint64_t digest = 0;                ///< entry_digest() of the entry as read
};

/// What one node consumed and produced when it last built successfully.
struct StateEntry {
  std::string checksum;
  std::string last_updated;                     ///< ISO-8601 as stored (any offset / naive).
  FlatStringMap sources;   ///< source unique_id -> max_loaded_at consumed.
  /// orc's addition: parent asset id -> that parent's `last_updated` when this node built.
  /// Absent in files written by the reference.
  FlatStringMap parents;
  bool has_parents = false;                     ///< whether `parents` was recorded at all.
  /// orc's addition (`orc_source_tokens`): source unique_id -> data-change token consumed, for
  /// sources without loaded_at_* (design.md, "Implicit freshness"). Tokens are not timestamps,
  /// so they stay out of `sources`, which the reference reads.
  FlatStringMap source_tokens;
  /// orc's addition (`orc_source_markers`): source unique_id -> change marker consumed, for
  /// sources with loaded_at_* (design.md, "Late-arriving rows"): a value beside max_loaded_at
  /// that also moves when rows arrive without a newer loaded_at. Compared for equality only.
  FlatStringMap source_markers;
  /// orc's addition; absent in entries written by the reference or by orc before 0.2.
  std::optional<Fingerprint> fingerprint;
  /// orc's addition (`orc_build_seconds`): how long the node's last successful build took
  /// (run_results.json `execution_time`); what reusing it saves. Absent when unknown.
  std::optional<double> build_seconds;
  /// orc's addition (`orc_target`): the dbt target (target.name) the node was built or cloned
  /// for; "" when unknown (entries written before orc recorded it, or by the reference). What
  /// `--reuse-from <target>` looks entries up by (docs/design.md, "Reusing another target's
  /// builds").
  std::string target;
  /// orc's additions (`orc_cloned_from`, `orc_cloned_version`) on an entry whose relation is a
  /// clone of another target's: that target, and the `last_updated` of its entry that was
  /// cloned (the version of the data the clone shows). Empty on built entries.
  std::string cloned_from;
  std::string cloned_version;

  bool is_clone() const { return !cloned_from.empty(); }
  /// Other fields of the entry, kept verbatim as `"key":value` pairs joined by ','.
  std::string extra_fields;
  /// The text this entry was read from (none for entries a run made). Not part of what the
  /// entry holds: an entry changed in place is serialized again, whatever this says.
  EntryText read_as;
};

/// A digest of everything a state entry holds (every field but `read_as`): equal digests mean,
/// but for a 64-bit collision, the entry holds what it held when the digest was taken.
uint64_t entry_digest(const StateEntry& entry);

/// orc's addition (top-level `orc_savings`): what reuse saved, summed over every stateful
/// run that recorded it (see plan/savings.h).
struct SavingsTotals {
  int64_t runs = 0;            ///< runs that recorded their savings
  int64_t reused_nodes = 0;    ///< reused nodes, summed over those runs
  int64_t decided_nodes = 0;   ///< decided nodes, summed over those runs
  /// The reused nodes' last build durations, summed: node-seconds of warehouse work skipped
  /// (they overlap across dbt's threads, so this is not wall-clock time saved).
  double saved_seconds = 0;

  bool operator==(const SavingsTotals&) const = default;
};

/// The whole state document: {"state": {asset_id: entry}} plus any other top-level fields.
struct State {
  std::unordered_map<std::string, StateEntry> entries;
  std::string extra_top_level;  ///< Other top-level fields, verbatim `"key":value,...`.
  SavingsTotals savings;        ///< `orc_savings`; written only when runs > 0
};

/// The entry that describes `key` built as `relation`: the primary entry `key` when it was built
/// as that relation (or records no relation), else the per-relation entry `key@relation`, else
/// the primary entry (whose other relation then explains a rebuild). Null when none exists.
const StateEntry* find_entry(const State& state, const std::string& key,
                             const std::string& relation);

/// The key under which an entry of `key` built as another relation is kept.
std::string relation_key(const std::string& key, const std::string& relation);

/// Parses a state document. Throws orc::Error naming `origin` when the text is not JSON or
/// not of the expected shape ({"state": {...}} with object entries).
State parse_state(std::string_view text, const std::string& origin);

/// parse_state on the file at `path`, read through a mapping instead of copies (a 100k-node
/// state is over 100 MB: docs/design.md, "Engine performance"). Throws orc::Error naming the
/// path when it is not a readable regular file. The entries' `read_as` text stays in the
/// mapping, so the file must not shrink while the State lives (a mapped file truncated in
/// place faults); orc itself replaces state files by rename, and only `orc dbt orchestra plan`,
/// which runs no dbt, reads state this way.
State read_state_file(const std::filesystem::path& path);

/// Serialises a state document (entries sorted by key, so output is deterministic). An entry
/// that still holds what it was read as is written as the text it was read from (orc's own
/// layout when orc wrote it; another writer's layout, same JSON values, when not).
std::string serialize_state(const State& state);

/// Folds `updates` into `base`: per entry, the one with the newer `last_updated` wins
/// (an update whose timestamp cannot be compared wins). Returns the number of entries taken.
size_t merge_state(State& base, const State& updates);

/// Removes the entries whose keys are in `keys` from `state` (absent keys are ignored).
/// Returns the number removed.
size_t remove_entries(State& state, const std::vector<std::string>& keys);

}  // namespace orc
