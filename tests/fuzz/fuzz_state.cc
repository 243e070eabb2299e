// libFuzzer target: the state codec (src/state/state.cc). Every backend (local file, S3, GCS,
// Azure Blob, the Orchestra HTTP API) stores and returns this one document, so this covers
// what any of them can hand back. Checks that what orc writes reads back to the same text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/error.h"
#include "plan/state_keys.h"
#include "state/state.h"

/// libFuzzer entry point: parse, serialise, re-parse (must succeed and be a fixed point),
/// merge into itself and into an empty state, filter and prune by account, look up.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  orc::State state;
  try {
    state = orc::parse_state(text, "fuzz/state.json");
  } catch (const orc::Error&) {
    return 0;
  }
  std::string once = orc::serialize_state(state);
  orc::State again;
  try {
    again = orc::parse_state(once, "serialised state");
  } catch (const orc::Error& e) {
    __builtin_trap();  // orc wrote a document it cannot read back
  }
  if (orc::serialize_state(again) != once) __builtin_trap();  // not a fixed point
  orc::State merged;
  orc::merge_state(merged, state);
  orc::merge_state(merged, again);
  if (merged.entries.size() != state.entries.size()) __builtin_trap();
  const orc::Graph no_nodes;
  for (bool local_run : {false, true}) {
    const orc::StateKeys keys(no_nodes, std::string("acct"), local_run);
    orc::State seen = state;
    keys.filter(seen);
    keys.stale(state);
    for (const auto& [key, entry] : state.entries) keys.node_of(key);
  }
  for (const auto& [key, entry] : state.entries) {
    orc::find_entry(state, key, entry.fingerprint ? entry.fingerprint->relation : "");
    orc::find_entry(state, key, "db.schema.other");
  }
  return 0;
}
