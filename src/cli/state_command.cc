// `orc state show | export | import | forget | prune`: look at and repair the state of
// whichever store is configured, every write through the store's guarded update.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/tool_args.h"
#include "config/config.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/json_writer.h"
#include "dbt/dbt_args.h"
#include "dbt/manifest_reader.h"
#include "dbt/project_paths.h"
#include "plan/session.h"
#include "report/savings_report.h"
#include "state/state_edit.h"
#include "stores/state_store.h"

namespace orc {
namespace fs = std::filesystem;

namespace {

constexpr const char* kStateUsage =
    "usage: orc state show [PATTERN...] [--output json|table] [--savings]\n"
    "       orc state export FILE\n"
    "       orc state import FILE [--dry-run]\n"
    "       orc state forget PATTERN... [--dry-run]\n"
    "       orc state prune [--manifest PATH] [--dry-run]";

/// The state restricted to the entries `patterns` name (all entries when there are none).
State filtered(const State& state, const std::vector<std::string>& patterns) {
  if (patterns.empty()) return state;
  State out;
  for (const auto& key : match_keys(state, patterns).keys) out.entries.emplace(key, state.entries.at(key));
  return out;
}

/// `orc state show`: entries as a table or a state document, or the savings totals.
int show(const ToolArgs& a, StateStore& store) {
  const std::string format = output_format(a, "orc state show");
  State state = store.load();
  if (a.has("--savings")) {
    const SavingsTotals& t = state.savings;
    if (format == "json") {
      fmt::print("{{\"store\": {}, \"runs\": {}, \"reused_nodes\": {}, \"decided_nodes\": {}, "
                 "\"node_seconds\": {:.3f}}}\n",
                 json_quote(store.describe()), t.runs, t.reused_nodes, t.decided_nodes,
                 t.saved_seconds);
    } else {
      fmt::print("{} runs recorded in {}: {}\n", t.runs, store.describe(),
                 savings_totals_line(t));
    }
    return 0;
  }
  State shown = filtered(state, a.positional);
  if (format == "json") {
    shown.savings = {};
    shown.extra_top_level.clear();
    std::fputs(serialize_state(shown).c_str(), stdout);
    return 0;
  }
  std::vector<std::string> keys;
  for (const auto& [k, e] : shown.entries) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  size_t width = 3;
  for (const auto& k : keys) width = std::max(width, k.size());
  fmt::print("{:<{}}  {:<32}  {:>9}  {:<11}  {}\n", "KEY", width, "LAST_UPDATED", "LAST_BUILD",
             "FINGERPRINT", "SOURCES");
  for (const auto& k : keys) {
    const StateEntry& e = shown.entries.at(k);
    fmt::print("{:<{}}  {:<32}  {:>9}  {:<11}  {}\n", k, width, e.last_updated,
               e.build_seconds ? format_duration(*e.build_seconds) : "-",
               e.fingerprint ? "yes" : "no", e.sources.size() + e.source_tokens.size());
  }
  fmt::print("{} of {} entries in {}\n", keys.size(), state.entries.size(), store.describe());
  return 0;
}

/// `orc state export FILE`: the whole stored document, as stored.
int export_state(const ToolArgs& a, StateStore& store) {
  if (a.positional.size() != 1) throw UsageError(kStateUsage);
  State state = store.load();
  write_file_atomic(a.positional[0], serialize_state(state));
  fmt::print("exported {} entries from {} to {}\n", state.entries.size(), store.describe(),
             a.positional[0]);
  return 0;
}

void print_keys(const char* verb, const std::vector<std::string>& keys) {
  for (const auto& k : keys) fmt::print("{} {}\n", verb, k);
}

/// `orc state import FILE`: merged like a run's results (newer last_updated wins per entry).
int import_state(const ToolArgs& a, StateStore& store) {
  if (a.positional.size() != 1) throw UsageError(kStateUsage);
  const std::string& file = a.positional[0];
  State incoming = parse_state(read_file(file), file);  // bad input stops before any write
  const bool dry = a.has("--dry-run");
  ImportDiff diff;
  if (dry) {
    diff = import_diff(store.load(), incoming);
  } else {
    store.update([&](State& stored) {
      diff = import_diff(stored, incoming);  // the diff of the attempt that is written
      merge_state(stored, incoming);
    });
  }
  const char* prefix = dry ? "would " : "";
  print_keys(dry ? "would add" : "add", diff.added);
  print_keys(dry ? "would replace" : "replace", diff.replaced);
  print_keys("keep (stored entry is newer)", diff.kept);
  fmt::print("{}import {} entries into {}: {} added, {} replaced, {} kept{}\n", prefix,
             incoming.entries.size(), store.describe(), diff.added.size(), diff.replaced.size(),
             diff.kept.size(), dry ? " (dry run: nothing written)" : "");
  return 0;
}

/// Removes the keys `which` picks from the stored state under the guard (or, dry, lists
/// them). `which` is applied to the state as read in each attempt.
int remove_keys(const std::function<std::vector<std::string>(const State&)>& which, bool dry,
                StateStore& store, const char* verb) {
  std::vector<std::string> removed;
  if (dry) {
    removed = which(store.load());
  } else {
    store.update([&](State& stored) {
      removed = which(stored);  // the removal of the attempt that is written
      remove_entries(stored, removed);
    });
  }
  print_keys(dry ? "would remove" : "remove", removed);
  fmt::print("{}{} {} entries in {}{}\n", dry ? "would " : "", verb, removed.size(),
             store.describe(), dry ? " (dry run: nothing written)" : "");
  return 0;
}

/// `orc state forget PATTERN...`: those nodes are built by the next run (no_state_entry).
/// Only this configuration's keys are candidates (StateKeys::owns): another account's entry
/// is never forgotten by a name it shares.
int forget(const ToolArgs& a, const Config& config, StateStore& store) {
  if (a.positional.empty())
    throw UsageError("`orc state forget` needs at least one node id, name or glob pattern");
  const SessionSettings settings = session_settings(config);
  const Graph no_nodes;  // ownership depends on the key shape only
  const StateKeys keys(no_nodes, settings.integration_account_id, settings.local_run);
  auto ours = [&keys](std::string_view key) { return keys.owns(key); };
  // Every pattern must name something now: a typo must not pass for "forgotten".
  KeyMatch now = match_keys(store.load(), a.positional, ours);
  if (!now.unmatched.empty())
    throw Error(fmt::format("no state entry in {} matches \"{}\"; nothing was changed (see "
                            "`orc state show`)",
                            store.describe(), now.unmatched.front()));
  return remove_keys([&](const State& s) { return match_keys(s, a.positional, ours).keys; },
                     a.has("--dry-run"), store, "forget");
}

/// `orc state prune`: this configuration's entries of nodes the project's manifest no longer
/// has (StateKeys::stale).
int prune(const ToolArgs& a, const Config& config, StateStore& store) {
  if (!a.positional.empty()) throw UsageError(kStateUsage);
  fs::path manifest;
  if (auto m = a.option("--manifest")) {
    manifest = *m;
  } else {
    DbtArgs dargs;
    dargs.project_dir = a.option("--project-dir");
    manifest = resolve_project_paths(dargs, config.env, fs::current_path()).target_dir /
               "manifest.json";
  }
  std::error_code ec;
  if (!fs::is_regular_file(manifest, ec))
    throw Error(fmt::format("manifest {} not found: run `dbt parse` first or pass --manifest "
                            "PATH; nothing was changed",
                            manifest.string()));
  Graph graph = read_manifest(manifest);
  const SessionSettings settings = session_settings(config);
  const StateKeys keys(graph, settings.integration_account_id, settings.local_run);
  return remove_keys([&](const State& s) { return keys.stale(s); }, a.has("--dry-run"), store,
                     "prune");
}

}  // namespace

int run_state_command(const std::vector<std::string>& args, const Config& config) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    if (args.empty()) throw UsageError(kStateUsage);
    fmt::print("{}\n", kStateUsage);
    return 0;
  }
  const std::string& sub = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  ToolArgsSpec spec{"orc state " + sub, {}, {"--project-dir"}};
  if (sub == "show") {
    spec.flags = {"--savings"};
    spec.options.insert("--output");
  } else if (sub == "import" || sub == "forget") {
    spec.flags = {"--dry-run"};
  } else if (sub == "prune") {
    spec.flags = {"--dry-run"};
    spec.options.insert("--manifest");
  } else if (sub != "export") {
    throw UsageError(fmt::format("no such command `orc state {}`\n{}", sub, kStateUsage));
  }
  ToolArgs a = parse_tool_args(rest, spec);
  std::unique_ptr<StateStore> store = open_state_store(config);
  if (sub == "show") return show(a, *store);
  if (sub == "export") return export_state(a, *store);
  if (sub == "import") return import_state(a, *store);
  if (sub == "forget") return forget(a, config, *store);
  return prune(a, config, *store);
}

}  // namespace orc
