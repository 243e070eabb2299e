#pragma once
// The one retry policy every object-store backend shares: transient retries for reads,
// and read-merge-conditional-write with bounded jittered backoff on precondition conflicts.
#include <functional>
#include <optional>
#include <string>

#include "stores/cloud/http_client.h"
#include "state/state.h"

namespace orc::remote {

/// How many times save_merged_with_retries reads, merges and writes before giving up.
inline constexpr int kMaxConflictRetries = 10;

/// One read of a remote state object: its parsed state and the version token a conditional
/// write must name (S3/Azure ETag, GCS generation). `version` is nullopt when the object is
/// absent (the write must then only create).
struct ObjectSnapshot {
  State state;
  std::optional<std::string> version;
};

/// What one conditional write did: written, or refused because the object changed
/// (`conflict` then says how, e.g. "HTTP 412"). Other failures are thrown by the writer.
struct WriteAttempt {
  bool written = false;
  std::string conflict;
};

/// Performs the request `make` builds (rebuilt per attempt so dates, signatures and tokens
/// are fresh), retrying network errors and 5xx answers up to `attempts` attempts with
/// doubling backoff. Returns the last response; `what` names the request in debug lines.
HttpResponse perform_with_transient_retries(const std::function<HttpRequest()>& make,
                                            const std::string& what, int attempts = 4);

/// Reads (`read`), merges `updates` into what was read, and hands the merged state to
/// `write` with the snapshot it came from; on a conflict it backs off (jittered, doubling up
/// to 2 s) and starts over, up to kMaxConflictRetries times, then throws orc::Error naming
/// `where`. Debug lines say "changed while saving" on each conflict.
void save_merged_with_retries(
    const State& updates, const std::string& where, const std::function<ObjectSnapshot()>& read,
    const std::function<WriteAttempt(const State& merged, const ObjectSnapshot& read_from)>& write);

/// The same policy for any change (StateStore::update): reads, applies `change` to what was
/// read, writes under the snapshot's version; on a conflict starts over.
void update_with_retries(
    const std::function<void(State&)>& change, const std::string& where,
    const std::function<ObjectSnapshot()>& read,
    const std::function<WriteAttempt(const State& changed, const ObjectSnapshot& read_from)>& write);

}  // namespace orc::remote
